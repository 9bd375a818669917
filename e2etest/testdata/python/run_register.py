"""Runs register.handler once, as a plain program or as a Lambda runtime would.

Usage: run_register.py plain|lambda USER_ID

plain:  creates the DynamoDB table (untraced), then wraps the handler in a segment named
        "register" with the HTTP request and response recorded on it.
lambda: expects LAMBDA_TASK_ROOT and _X_AMZN_TRACE_ID in the environment; the SDK then sends
        each subsegment as an independent document parented to the header's Parent.

Prints one JSON line: trace_id, segment_id (plain only) and the handler's response.
"""

import json
import os
import sys

import boto3

mode, user_id = sys.argv[1], sys.argv[2]

if mode == "plain":
    # Before patch_all(): setting up the table is not part of the traced work.
    ddb = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])
    try:
        ddb.create_table(
            TableName=os.environ["TABLE_NAME"],
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ddb.exceptions.ResourceInUseException:
        pass

from aws_xray_sdk.core import patch_all, xray_recorder  # noqa: E402

xray_recorder.configure(sampling=False, context_missing="LOG_ERROR")
patch_all()

import register  # noqa: E402

event = {"user_id": user_id, "email": user_id + "@example.com"}

if mode == "plain":
    segment = xray_recorder.begin_segment("register")
    segment.put_http_meta("method", "POST")
    segment.put_http_meta("url", "http://localhost/register")
    segment.put_http_meta("user_agent", "e2etest")
    response = register.handler(event, None)
    segment.put_http_meta("status", response["statusCode"])
    segment.put_annotation("user_id", user_id)
    xray_recorder.end_segment()
    print(json.dumps({"trace_id": segment.trace_id, "segment_id": segment.id, "response": response}))
elif mode == "lambda":
    response = register.handler(event, None)
    print(json.dumps({"trace_id": os.environ["_X_AMZN_TRACE_ID"], "response": response}))
else:
    sys.exit("unknown mode " + mode)
