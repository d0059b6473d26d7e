"""The graph walk: the original executor's Predict and Feedback procedures (spec section 2).

Protocol-neutral: messages are whatever the front door's ``Payloads`` say (REST bytes with
their content type, or protobuf messages), and nodes are reached through a ``NodeClient``. The
walk decides which node is called, for what, in which order, and what answers: transform-input,
then the route (a router's answer, RANDOM_ABTEST, or all children at once), the children, the
aggregate, transform-output; feedback goes to the children first, by the routing the response
carried. Where the original panicked (a route outside the children, feedback routed to -2), the
walk answers a 500 ``WalkError`` naming the node and the index.

The walk is a coroutine: a request waiting on a node holds no thread, so one event loop keeps
as many requests in flight as clients send (REST and gRPC front doors alike), and the children
of an all-children node are awaited together.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from seldon_wrapper.executor.graph import Node

# What a node is called for; the front door maps each to a path or an RPC.
PREDICT = "predict"
TRANSFORM_INPUT = "transform-input"
TRANSFORM_OUTPUT = "transform-output"
ROUTE = "route"
AGGREGATE = "aggregate"
FEEDBACK = "send-feedback"

ALL_CHILDREN = -1
NO_CHILDREN = -2


class WalkError(Exception):
    """A failure of the walk: ``status`` for the client; ``payload`` is a node's own error answer
    passed through (else the front door writes the executor's error body from ``message``)."""

    def __init__(self, message: str, status: int = 500, payload: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.payload = payload


class NodeClient(Protocol):
    """Calls one node; raises WalkError for a failed call (a node's non-200 answer keeps its
    status and body as ``payload``)."""

    def __call__(self, node: Node, purpose: str, message: Any, context: Any) -> Awaitable[Any]: ...


class Payloads(Protocol):
    """What the walk needs to know about a protocol's messages."""

    def chain(self, message: Any) -> Any:
        """A previous hop's answer made into the next hop's request (identity for seldon)."""

    def aggregate_request(self, messages: list[Any]) -> Any:
        """The children's answers as one aggregate request."""

    def routes(self, answer: Any) -> list[int]:
        """The route indices in a router's answer; WalkError when it has none to read."""

    def feedback_route(self, feedback: Any, node_name: str) -> int:
        """The routing the feedback's response recorded for ``node_name``, else -1."""

    def inject_routing(self, message: Any, routing: Mapping[str, int]) -> Any:
        """``meta.routing`` set to the walk's routing map (routing injection)."""


#: Payload-logger event kinds (spec 7.1): a node's input, its answer, a feedback it was sent.
LOG_REQUEST = "request"
LOG_RESPONSE = "response"
LOG_FEEDBACK = "feedback"


@dataclass
class Request:
    """One walk's state: the client's context (headers, puid, override), the routing map, and
    whether the payload logger may see it (``Seldon-Skip-Logging`` turns it off)."""

    context: Any = None
    routing: dict[str, int] = field(default_factory=dict)
    log: bool = True


#: ``log(node, kind, message, request)``: hands one event to the payload logger.
Logger = Callable[[Node, str, Any, Request], None]


class Walk:
    """Runs requests through one graph."""

    def __init__(
        self,
        call: NodeClient,
        payloads: Payloads,
        inject_routing: bool = False,
        draw: Callable[[], float] = random.random,
        log: Logger | None = None,
    ) -> None:
        self.call = call
        self.payloads = payloads
        self.inject_routing = inject_routing
        self.draw = draw
        self.log = log

    def _logged(self, node: Node, request: Request) -> bool:
        return self.log is not None and request.log and node.logger is not None

    # -- predict ---------------------------------------------------------------------------

    async def predict(self, node: Node, message: Any, request: Request) -> Any:
        """Each step of the node (a call, or its children) is logged as the original did: its
        input before, its answer after, each when the node's logger mode asks for it."""
        routing = request.routing
        log = self.log if self._logged(node, request) else None
        if node.transforms_input:
            purpose = TRANSFORM_INPUT if node.input_path == "transform-input" else PREDICT
            routing[node.name] = ALL_CHILDREN
            message = await self._transform(node, purpose, message, request, log)
        if node.children:
            if log is not None:
                log(node, LOG_REQUEST, message, request)
            message = await self._children(node, message, request)
            if log is not None:
                log(node, LOG_RESPONSE, message, request)
        if node.transforms_output:
            message = await self._transform(node, TRANSFORM_OUTPUT, message, request, log)
        if self.inject_routing:
            message = self.payloads.inject_routing(message, dict(routing))
        return message

    async def _transform(
        self, node: Node, purpose: str, message: Any, request: Request, log: Logger | None
    ) -> Any:
        """One call on the previous hop's answer, logged before and after when ``log`` is set."""
        message = self.payloads.chain(message)
        if log is not None:
            log(node, LOG_REQUEST, message, request)
        answer = await self.call(node, purpose, message, request.context)
        if log is not None:
            log(node, LOG_RESPONSE, answer, request)
        return answer

    async def _route(self, node: Node, message: Any, request: Request) -> int:
        if node.routes:
            answer = await self.call(node, ROUTE, message, request.context)
            routes = self.payloads.routes(answer)
            if not routes:
                raise WalkError(f"router {node.name!r} answered no route")
            return routes[0]
        if node.ab_test:
            return 0 if self.draw() < node.ratio_a else 1
        return ALL_CHILDREN

    async def _children(self, node: Node, message: Any, request: Request) -> Any:
        route = await self._route(node, message, request)
        request.routing[node.name] = route
        if route == NO_CHILDREN:
            return message
        if route == ALL_CHILDREN:
            results = await _all([self.predict(child, message, request) for child in node.children])
        else:
            if not 0 <= route < len(node.children):
                raise WalkError(
                    f"router {node.name!r} chose route {route}, but it has {len(node.children)} "
                    f"children (routes 0 to {len(node.children) - 1}, -1 for all, -2 for none)"
                )
            results = [await self.predict(node.children[route], message, request)]
        if node.aggregates:
            request.routing[node.name] = ALL_CHILDREN
            combined = self.payloads.aggregate_request(results)
            if not self._logged(node, request):
                return await self.call(node, AGGREGATE, combined, request.context)
            self.log(node, LOG_REQUEST, message, request)  # the node's input, not the list
            answer = await self.call(node, AGGREGATE, combined, request.context)
            self.log(node, LOG_RESPONSE, answer, request)
            return answer
        return results[0]

    # -- feedback --------------------------------------------------------------------------

    async def feedback(self, node: Node, feedback: Any, request: Request) -> Any:
        if node.children:
            route = self.payloads.feedback_route(feedback, node.name)
            if route == ALL_CHILDREN:
                await _all([self.feedback(child, feedback, request) for child in node.children])
            elif 0 <= route < len(node.children):
                await self.feedback(node.children[route], feedback, request)
            else:
                raise WalkError(
                    f"feedback for {node.name!r} is routed to {route}, "
                    f"but it has {len(node.children)} children"
                )
        if self._logged(node, request):
            self.log(node, LOG_FEEDBACK, feedback, request)
        if node.takes_feedback:
            return await self.call(node, FEEDBACK, feedback, request.context)
        return feedback


async def _all(steps: list[Awaitable[Any]]) -> list[Any]:
    """Every child at once; the lowest-index failure wins, after all have finished."""
    if len(steps) == 1:
        return [await steps[0]]
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes
