#!/usr/bin/env python3
"""Prints VADER's reference scores (PyPI vaderSentiment 3.3.2) of the texts dw's VADER port is
checked against, unrounded, one JSON line per text: {"text", "neg", "neu", "pos", "compound"}.

The reference rounds its figures for display (3 and 4 decimals); this script turns the rounding
off so that the port can be compared to the last bit. The texts: VADER's own examples, cases of
each rule, and the texts (no labels) of the tweet samples dw ships.

Usage (a venv with vaderSentiment==3.3.2):
  python vader_reference.py data/replay/2015-08-06.jsonl \
      tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl \
      > tests/fixtures/vader/reference.jsonl
"""

import json
import sys

import vaderSentiment.vaderSentiment as vader

vader.round = lambda x, _digits: x

RULES = [
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "no good no bad no or nor great",
    "no problem at all",
    "never so happy, never this sad",
    "without doubt a great night",
    "the least good, at least good, very least good",
    "this is the shit and the bomb, yeah right",
    "kiss of death to die for, beating heart",
    "sort of good, kind of bad, just enough fun",
    "good good but good bad bad",
    "great?? awful??? WOW???? fine!!!!! ok!",
    "😁😁😁love💘",
    "   ",
    "",
    "ÉNORME CHAOS not GOOD at ALL",
    "İstanbul is lovely",
]


def texts(paths):
    yield from RULES
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    status = json.loads(line)
                except ValueError:
                    continue
                if "text" in status:
                    yield status["text"]


def main():
    analyzer = vader.SentimentIntensityAnalyzer()
    for text in texts(sys.argv[1:]):
        s = analyzer.polarity_scores(text)
        print(json.dumps({"text": text, **s}, ensure_ascii=False))


if __name__ == "__main__":
    main()
