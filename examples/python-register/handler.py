"""The classic serverless "register a user" function, traced by the X-Ray SDK.

patch_all() makes every boto3 and requests call a subsegment of the
invocation; nothing else in the code knows about tracing. It stores the
user in DynamoDB, fetches a profile from one third-party API and notifies a
partner API. INIT_SLEEP_MS stands for slow init code (imports, clients), so
the cold start's Initialization is easy to see.
"""

import json
import os
import time

import boto3
import requests
from aws_xray_sdk.core import patch_all, xray_recorder

patch_all()

time.sleep(int(os.environ.get("INIT_SLEEP_MS", "0")) / 1000)

TABLE_NAME = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None)


@xray_recorder.capture("notify_partner")
def notify_partner(user):
    resp = requests.post(os.environ["PARTNER_URL"], json=user, timeout=10)
    resp.raise_for_status()
    return resp.json()


def register(event, context):
    body = event.get("body")
    user = json.loads(body) if isinstance(body, str) else event
    user = {"user_id": user["user_id"], "email": user["email"]}
    dynamodb.put_item(
        TableName=TABLE_NAME,
        Item={"user_id": {"S": user["user_id"]}, "email": {"S": user["email"]}},
    )
    profile = requests.get(os.environ["PROFILE_URL"], timeout=10)
    profile.raise_for_status()
    user["profile"] = profile.json()
    try:
        notify_partner(user)
    except requests.HTTPError as err:
        return {"statusCode": 502, "body": json.dumps({"error": str(err)})}
    return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps(user)}
