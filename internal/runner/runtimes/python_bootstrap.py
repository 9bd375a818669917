"""thaw's Lambda runtime client for Python functions.

It plays the role of the AWS Lambda Python runtime interface client, with
the standard library only: it imports the handler named by _HANDLER
("module.function", the module relative to LAMBDA_TASK_ROOT), then asks the
Runtime API for events forever, calling the handler with the event and a
context object, and posts each result or error. Init errors are posted to
/runtime/init/error with the error types the official client uses.
"""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"
conn = http.client.HTTPConnection(API)  # keep-alive; no timeout: /next blocks


def call(method, path, body=None, headers=None):
    conn.request(method, BASE + path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp, data


def frames(tb):
    return traceback.extract_tb(tb)


def error_body(exc, error_type=None):
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames(exc.__traceback__)),
    }


def xray_cause(exc):
    stack = [{"path": f.filename, "line": f.lineno, "label": f.name} for f in frames(exc.__traceback__)]
    return {
        "working_directory": os.getcwd(),
        "exceptions": [{"type": type(exc).__name__, "message": str(exc), "stack": stack}],
        "paths": sorted({f["path"] for f in stack}),
    }


def init_error(exc, error_type, message=None):
    body = error_body(exc, error_type)
    if message:
        body["errorMessage"] = message
    body["stackTrace"] = []
    call("POST", "/init/error", json.dumps(body), {
        "Lambda-Runtime-Function-Error-Type": error_type,
        "Content-Type": "application/json",
    })
    sys.exit(1)


class Context:
    def __init__(self, headers):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        cc = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        init_error(ValueError(spec), "Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec)
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as exc:
        init_error(exc, "Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, exc))
    except ImportError as exc:
        init_error(exc, "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, exc))
    except Exception as exc:  # the module's own init code failed
        init_error(exc, "Runtime.Unknown")
    handler = getattr(module, function_name, None)
    if handler is None:
        init_error(AttributeError(function_name), "Runtime.HandlerNotFound",
                   "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


def main():
    handler = load_handler()
    while True:
        resp, body = call("GET", "/invocation/next")
        headers = {k: v for k, v in resp.getheaders()}
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, Context(headers))
            payload = json.dumps(result)
        except Exception as exc:
            call("POST", "/invocation/%s/error" % request_id, json.dumps(error_body(exc)), {
                "Content-Type": "application/json",
                "Lambda-Runtime-Function-XRay-Error-Cause": json.dumps(xray_cause(exc)),
            })
            continue
        call("POST", "/invocation/%s/response" % request_id, payload, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
