#!/usr/bin/env python3
"""moto's server, in-process, with the two gaps that dw's tests need closed.

Stock moto answers DescribeSpotPriceHistory with one fake record per zone (price 0.00001, year 2006)
and ignores the time range and paging. Here the EC2 handler is replaced by one that serves recorded
aws-cli `describe-spot-price-history` JSON files loaded through the control endpoint, the way EC2
does: filtered by instance type, product, zone and time range, including the price in effect at the
start time, newest first, paged with MaxResults/NextToken. Instance types with no recorded history
fall back to moto's own answer.

Control endpoint (JSON over HTTP, same port as moto):
  POST /_dw/spot-history   {"files": ["path", ...]}  replaces the recorded history
  POST /_dw/reset          clears the recorded history (moto's own state: POST /moto-api/reset)
  GET  /_dw/calls          the EC2/EMR/S3 calls seen so far, in order (to assert "no mutating call")
  POST /_dw/emr/cluster    {"cluster_id", "state", "message"}: sets an EMR cluster's state, which
                           stock moto never changes by itself (it jumps to WAITING at once)
  POST /_dw/emr/step       {"cluster_id", "index" | "step_id", "state", "message"}: sets a step's

Usage: moto_harness.py --port-file FILE   (binds 127.0.0.1 on a free port, writes it to FILE)
"""

import argparse
import io
import os
import json
import sys
import threading
from datetime import datetime, timezone
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

HISTORY = []  # list of dicts in aws-cli form, newest first
CALLS = []
LOCK = threading.Lock()


def parse_time(text):
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def load_history(files):
    records = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            for r in json.load(f)["SpotPriceHistory"]:
                r = dict(r)
                r["_t"] = parse_time(r["Timestamp"])
                records.append(r)
    records.sort(key=lambda r: (r["_t"], r["AvailabilityZone"]), reverse=True)
    with LOCK:
        HISTORY[:] = records


def _indexed(params, name):
    """Values of Name.1, Name.2, ... (EC2 query protocol lists)."""
    out, i = [], 1
    while f"{name}.{i}" in params:
        out.append(params[f"{name}.{i}"])
        i += 1
    return out


def select_history(params):
    types = set(_indexed(params, "InstanceType"))
    products = set(_indexed(params, "ProductDescription"))
    zones = set()
    if params.get("AvailabilityZone"):
        zones.add(params["AvailabilityZone"])
    i = 1
    while f"Filter.{i}.Name" in params:
        name = params[f"Filter.{i}.Name"]
        values = _indexed(params, f"Filter.{i}.Value")
        if name == "availability-zone":
            zones.update(values)
        elif name == "instance-type":
            types.update(values)
        elif name == "product-description":
            products.update(values)
        i += 1
    start = parse_time(params["StartTime"]) if params.get("StartTime") else None
    end = parse_time(params["EndTime"]) if params.get("EndTime") else None

    with LOCK:
        candidates = [
            r for r in HISTORY
            if (not types or r["InstanceType"] in types)
            and (not products or r["ProductDescription"] in products)
            and (not zones or r["AvailabilityZone"] in zones)
        ]
    if not candidates:
        return None
    selected, effective_seen = [], set()
    for r in candidates:  # newest first
        key = (r["AvailabilityZone"], r["InstanceType"], r["ProductDescription"])
        if end is not None and r["_t"] > end:
            continue
        if start is None or r["_t"] >= start:
            selected.append(r)
        elif key not in effective_seen:
            # EC2 also returns the last change before StartTime: the price in effect at the start.
            effective_seen.add(key)
            selected.append(r)
    return selected


def spot_history_xml(records, next_token):
    items = "".join(
        "<item>"
        f"<instanceType>{r['InstanceType']}</instanceType>"
        f"<productDescription>{r['ProductDescription']}</productDescription>"
        f"<spotPrice>{r['SpotPrice']}</spotPrice>"
        f"<timestamp>{r['_t'].strftime('%Y-%m-%dT%H:%M:%S.000Z')}</timestamp>"
        f"<availabilityZone>{r['AvailabilityZone']}</availabilityZone>"
        "</item>"
        for r in records
    )
    token = f"<nextToken>{next_token}</nextToken>" if next_token else "<nextToken/>"
    return (
        '<DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        "<requestId>dw-harness</requestId>"
        f"<spotPriceHistorySet>{items}</spotPriceHistorySet>{token}"
        "</DescribeSpotPriceHistoryResponse>"
    )


class Harness:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_dw/"):
            return self.control(Request(environ))(environ, start_response)
        params = self.ec2_params(environ)
        if params is not None:
            action = params.get("Action", "")
            with LOCK:
                CALLS.append(f"ec2:{action}")
            if action == "DescribeSpotPriceHistory":
                selected = select_history(params)
                if selected is not None:
                    page = int(params.get("MaxResults") or 1000)
                    offset = int(params.get("NextToken") or 0)
                    chunk = selected[offset:offset + page]
                    more = offset + page < len(selected)
                    body = spot_history_xml(chunk, str(offset + page) if more else None)
                    return Response(body, content_type="text/xml")(environ, start_response)
        else:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target.startswith("ElasticMapReduce."):
                with LOCK:
                    CALLS.append("emr:" + target.split(".", 1)[1])
            elif "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
                with LOCK:
                    CALLS.append(f"s3:{environ.get('REQUEST_METHOD')} {path}")
        return self.moto(environ, start_response)

    @staticmethod
    def ec2_params(environ):
        """The form parameters of an EC2 query-protocol call, or None for other services.

        The body is read here and put back, so that moto can read it again."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        if "/ec2/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}

    @staticmethod
    def control(request):
        path = request.path
        if path == "/_dw/spot-history" and request.method == "POST":
            load_history(request.get_json(force=True)["files"])
            return Response(json.dumps({"records": len(HISTORY)}), content_type="application/json")
        if path == "/_dw/reset" and request.method == "POST":
            with LOCK:
                HISTORY.clear()
                CALLS.clear()
            return Response("{}", content_type="application/json")
        if path == "/_dw/emr/cluster" and request.method == "POST":
            body = request.get_json(force=True)
            cluster = emr_cluster(body["cluster_id"])
            cluster.state = body["state"]
            cluster.last_state_change_reason = body.get("message")
            return Response("{}", content_type="application/json")
        if path == "/_dw/emr/step" and request.method == "POST":
            body = request.get_json(force=True)
            cluster = emr_cluster(body["cluster_id"])
            if "step_id" in body:
                step = next(s for s in cluster.steps if s.id == body["step_id"])
            else:
                step = cluster.steps[int(body["index"])]
            step.state = body["state"]
            step.last_state_change_reason = body.get("message")
            return Response("{}", content_type="application/json")
        if path == "/_dw/calls":
            with LOCK:
                return Response(json.dumps(CALLS), content_type="application/json")
        return Response("unknown control path", status=404)


def emr_cluster(cluster_id):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.emr.models import emr_backends

    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        clusters = emr_backends[DEFAULT_ACCOUNT_ID][region].clusters
        if cluster_id in clusters:
            return clusters[cluster_id]
    raise KeyError(cluster_id)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = make_server(args.host, args.port, Harness(), threaded=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    print(f"moto harness on {args.host}:{server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
