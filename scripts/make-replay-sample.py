#!/usr/bin/env python3
"""Builds data/replay/2015-08-06.jsonl, the sample `dw replay --debate 2015-08-06` ships with.

Input: gop_debate_2015-08-06_sentiment_dev.csv (2,774 human-labelled tweets of the first GOP
debate; see data/README.md). Output: one Twitter v1.1-shaped status per row, oldest first. The
envelope is reconstructed from the CSV's columns (tweet_id, tweet_created, text, name); the text is
kept exactly as the CSV has it (Twitter's &amp;/&lt;/&gt; escapes included). Run once; the output is
committed.

Usage: scripts/make-replay-sample.py CSV > data/replay/2015-08-06.jsonl
"""

import csv
import json
import sys
from datetime import datetime, timezone


def main(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            created = datetime.strptime(r["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
            created = created.astimezone(timezone.utc)
            rows.append((created, r))
    rows.sort(key=lambda x: (x[0], x[1]["tweet_id"]))
    out = sys.stdout
    for created, r in rows:
        status = {
            "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "id": int(r["tweet_id"]),
            "id_str": r["tweet_id"],
            "text": r["text"],
            "user": {"screen_name": r["name"]},
            "retweet_count": int(r["retweet_count"] or 0),
            "timestamp_ms": str(int(created.timestamp() * 1000)),
        }
        out.write(json.dumps(status, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
