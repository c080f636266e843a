"""A polyfn app whose functions are native handlers of other clouds, unchanged: Lambda handlers
(tests/native/lambda_handlers.py) through polyfn_aws.from_lambda and a functions-framework
function (tests/native/ff_functions.py) through polyfn_gcp.from_functions_framework.
"""

from __future__ import annotations

from typing import Any

import polyfn_aws
import polyfn_gcp

from polyfn import App
from tests.native import ff_functions, lambda_handlers

app = App("native")
rest = polyfn_aws.from_lambda(lambda_handlers.rest_handler, event="rest")
http_api = polyfn_aws.from_lambda(lambda_handlers.http_handler, event="http")

app.http("/todos", methods=["POST"], function_name="todos_create")(rest)
app.http("/todos/{rest+}", methods=["GET"], function_name="todos")(rest)
app.http("/items", methods=["POST"], function_name="items_create")(http_api)
app.http("/items/{item_id}", methods=["GET"], function_name="items")(http_api)
app.queue("orders")(polyfn_aws.from_lambda(lambda_handlers.sqs_handler, event="sqs"))
app.subscribe("order-events")(polyfn_aws.from_lambda(lambda_handlers.sns_handler, event="sns"))
app.storage("uploads")(polyfn_aws.from_lambda(lambda_handlers.s3_handler, event="s3"))
app.schedule("0 2 * * *")(
    polyfn_aws.from_lambda(lambda_handlers.schedule_handler, event="eventbridge")
)
app.http("/hello", methods=["GET", "POST"])(polyfn_gcp.from_functions_framework(ff_functions.hello))
app.http("/none")(polyfn_gcp.from_functions_framework(ff_functions.returns_none))

# A Lambda handler whose answers API Gateway would refuse (tests set what it returns).
ANSWER: list[Any] = [None]


def odd_lambda(event: dict[str, Any], context: Any) -> Any:
    return ANSWER[0]


app.http("/odd-rest", function_name="odd_rest")(polyfn_aws.from_lambda(odd_lambda, event="rest"))
app.http("/odd-http", function_name="odd_http")(polyfn_aws.from_lambda(odd_lambda, event="http"))
app.queue("odd-queue", function_name="odd_sqs")(polyfn_aws.from_lambda(odd_lambda, event="sqs"))
app.queue("payments", function_name="lenient_sqs")(
    polyfn_aws.from_lambda(lambda_handlers.lenient_sqs_handler, event="sqs")
)
