#!/usr/bin/env python3
"""The LabMT reference scorer (labMTsimple's algorithm), standard library only.

dw-score must agree with this to 1e-9 on every tweet (tests/reference.rs of jobs/score runs both).

Reads tweet JSON lines (Twitter v1.1 or v2) on stdin and prints, per status, one JSON line
{"id": ..., "score": mean or null, "words": scored words}, as `dw-score --emit tweets` does.

The algorithm: the text scored is the full text (extended_tweet.full_text, else full_text, else
text; for a retweet the retweeted status's full text); Twitter's &lt; &gt; &amp; escapes decoded;
URLs (https?://\\S+) removed; '---', '--' and "''" replaced by a space; tokens are the matches of
[\\w@#'&\\]*\\-/\\[=;]+, lower-cased; the score is the mean happiness of the tokens found in LabMT
1.0, each occurrence counted, leaving out words with LOW < h < HIGH (the lens, default 4 and 6).

Usage: labmt_reference.py [--lexicon labMT1.txt] [--lens 4,6|none] [--retweets original|as-is]
"""

import argparse
import json
import os
import re
import sys

TOKEN = re.compile(r"[\w@#'&\]*\-/\[=;]+", re.UNICODE)
URL = re.compile(r"https?://\S+", re.UNICODE)
HERE = os.path.dirname(os.path.abspath(__file__))


def load_lexicon(path):
    lexicon = {}
    with open(path, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            lexicon[fields[0]] = float(fields[2])
    return lexicon


def full_text(status):
    ext = status.get("extended_tweet") or {}
    return ext.get("full_text") or status.get("full_text") or status.get("text")


def scored_text(obj, retweets):
    if "data" in obj:  # v2
        data = obj["data"]
        if retweets == "original":
            for ref in data.get("referenced_tweets", []):
                if ref.get("type") == "retweeted":
                    for t in obj.get("includes", {}).get("tweets", []):
                        if t.get("id") == ref.get("id") and t.get("text") is not None:
                            return data["id"], t["text"]
        return data["id"], data["text"]
    if retweets == "original" and obj.get("retweeted_status"):
        original = full_text(obj["retweeted_status"])
        if original is not None:
            return obj["id_str"], original
    return obj["id_str"], full_text(obj)


def score(text, lexicon, lens):
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = URL.sub(" ", text)
    text = text.replace("---", " ").replace("--", " ").replace("''", " ")
    values = []
    for token in TOKEN.findall(text):
        h = lexicon.get(token.lower())
        if h is None:
            continue
        if lens is not None and lens[0] < h < lens[1]:
            continue
        values.append(h)
    if not values:
        return None, 0
    return sum(values) / len(values), len(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lexicon", default=os.path.join(HERE, "..", "data", "labMT1.txt"))
    ap.add_argument("--lens", default="4,6")
    ap.add_argument("--retweets", default="original", choices=["original", "as-is"])
    args = ap.parse_args()
    lexicon = load_lexicon(args.lexicon)
    lens = None if args.lens == "none" else tuple(float(x) for x in args.lens.split(","))
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict) or not ("data" in obj or ("id_str" in obj and "text" in obj)):
            continue  # notices: delete, limit, ...
        tweet_id, text = scored_text(obj, args.retweets)
        mean, words = score(text, lexicon, lens)
        out.write(json.dumps({"id": tweet_id, "score": mean, "words": words}) + "\n")


if __name__ == "__main__":
    main()
