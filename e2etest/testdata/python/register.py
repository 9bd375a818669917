"""A serverless-style sign-up handler, instrumented only by aws_xray_sdk's patch_all().

It stores the user in DynamoDB with boto3, fetches a profile from one third-party HTTP API
and notifies a partner API with requests. The partner call sits in a captured function that
raises on an HTTP error, as handlers usually do, so a failing partner leaves a fault and a
cause in the trace. Configuration comes from the environment, as in a Lambda function.
"""

import json
import os

import boto3
import requests
from aws_xray_sdk.core import xray_recorder

TABLE_NAME = os.environ["TABLE_NAME"]

dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])


@xray_recorder.capture("notify_partner")
def notify_partner(user):
    resp = requests.post(os.environ["PARTNER_URL"], json=user, timeout=10)
    resp.raise_for_status()
    return resp.json()


def handler(event, context):
    user = {"user_id": event["user_id"], "email": event["email"]}
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
    return {"statusCode": 201, "body": json.dumps(user)}
