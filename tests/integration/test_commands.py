"""`@command`: payloads are loaded before a command runs, each command id is carried out once,
a caller's deadline is kept, and `describe()` documents them (DESIGN.md "Delivery" 0)."""

import time
import uuid

import amqp
import pytest
from eventsourcing.domain import event
from kombu import Connection, Exchange, Producer, Queue
from marshmallow import Schema, fields, validate

from contracts.errors import Conflict, DeadlineExceeded, InvalidInput, NotAllowed
from services.runtime.domain import CasebookAggregate
from services.runtime.entrypoints import rpc
from services.runtime.publishing import Publications
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.store import CasebookApplication
from tests.support.services import WORKER, running
from tests.support.services import rpc as client
from tests.support.waiting import wait_for


class Greet(Schema):
    """Say hello to a named person."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    times = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=3))


class Said(Schema):
    greeting = fields.String(required=True)


class Count(Schema):
    greetings = fields.Integer(required=True)


class Greeting(CasebookAggregate):
    @event("Said")
    def __init__(self, name: str) -> None:
        self.school_id = None
        self.name = name


# Each greeting is on the audit trail as its record's kind only: a name is free text.
GREETINGS = Publications("greeter")
GREETINGS.audit_only(Greeting.Said, "Greeting")  # type: ignore[attr-defined]


class GreeterApplication(CasebookApplication):
    service = "greeter"
    publications = GREETINGS

    def greet(self, name: str) -> str:
        greeting = Greeting(name=name)
        self.save(greeting)
        return str(greeting.id)

    def greetings(self) -> int:
        return self.max_position()


class GreeterService(PublishingService):
    name = "greeter"
    app = ApplicationDependency(GreeterApplication)
    calls: list[dict] = []  # noqa: RUF012 - a test probe

    @rpc
    @command(Greet, returns=Said)
    def greet(self, data: dict) -> dict:
        GreeterService.calls.append(data)
        self.app.greet(data["name"])
        return {"greeting": " ".join([f"hello {data['name']}"] * data["times"])}

    @rpc
    @command(Greet)
    def greet_slowly(self, data: dict) -> None:
        """Takes longer than a short deadline gives it."""
        self.app.greet(data["name"])
        time.sleep(data["times"])

    @rpc
    @query(Greet, returns=Count)
    def count(self, data: dict) -> dict:
        return {"greetings": self.app.greetings()}


def test_a_command_gets_its_loaded_payload_and_bad_input_never_reaches_it(amqp_uri):
    GreeterService.calls.clear()
    with running(amqp_uri, GreeterService), client(amqp_uri, WORKER) as proxy:
        assert proxy.greeter.greet({"name": "小明", "times": 2}) == {
            "greeting": "hello 小明 hello 小明"}
        with pytest.raises(InvalidInput) as error:
            proxy.greeter.greet({"times": 9})
        described = proxy.greeter.describe()
    assert GreeterService.calls == [{"name": "小明", "times": 2}]
    assert error.value.errors == {
        "name": ["Missing data for required field."],
        "times": ["Must be greater than or equal to 1 and less than or equal to 3."],
    }
    schema = described["commands"]["greet"]
    assert schema["summary"] == "Say hello to a named person."
    assert schema["schema"]["required"] == ["name"]
    assert schema["returns"]["required"] == ["greeting"]
    # A command with no answer of its own is documented as answering null.
    assert described["commands"]["greet_slowly"]["returns"] == {"type": "null"}


def test_what_a_call_answers_is_named_as_the_service_is_defined() -> None:
    with pytest.raises(TypeError, match=r"count answers something.*@query\(\.\.\., returns="):
        class Untyped(PublishingService):
            @query(Greet)
            def count(self, data: dict) -> dict:
                return {}
    with pytest.raises(TypeError, match=r"greet answers something.*@command"):
        class Unnamed(PublishingService):
            @command(Greet)
            def greet(self, data: dict) -> dict:
                return {"greeting": "hello"}


def caller(amqp_uri, command_id=None, deadline=None, actor=WORKER):
    context = {"actor": actor}
    if command_id is not None:
        context["command_id"] = command_id
    if deadline is not None:
        context["deadline"] = deadline
    from services.runtime.replies import cluster_rpc
    from tests.support.services import config

    return cluster_rpc(config(amqp_uri), context_data=context, timeout=30)


def test_a_command_id_is_carried_out_once_and_its_retry_gets_the_first_outcome(amqp_uri):
    GreeterService.calls.clear()
    command_id = str(uuid.uuid4())
    with running(amqp_uri, GreeterService):
        with caller(amqp_uri, command_id) as proxy:
            first = proxy.greeter.greet({"name": "小明", "times": 2})
            # The same command again (a client's retry, a redelivery): the stored outcome.
            again = proxy.greeter.greet({"name": "小明", "times": 2})
            # A different command under the same id is refused, not confused with it.
            with pytest.raises(Conflict) as reused:
                proxy.greeter.greet_slowly({"name": "小明", "times": 1})
        with caller(amqp_uri) as proxy:
            stored = proxy.greeter.count({"name": "x"})["greetings"]
    assert first == again == {"greeting": "hello 小明 hello 小明"}
    assert len(GreeterService.calls) == 1
    assert stored == 1  # one event, not two
    assert "greet" in reused.value.detail


def test_callers_without_a_command_id_get_one_per_call(amqp_uri):
    with running(amqp_uri, GreeterService), caller(amqp_uri) as proxy:
        proxy.greeter.greet({"name": "a"})
        proxy.greeter.greet({"name": "a"})
        assert proxy.greeter.count({"name": "x"}) == {"greetings": 2}


def test_a_command_past_its_deadline_is_refused_unrun(amqp_uri):
    GreeterService.calls.clear()
    with running(amqp_uri, GreeterService):
        with caller(amqp_uri, deadline=time.time() - 1) as proxy, pytest.raises(
            DeadlineExceeded
        ):
            proxy.greeter.greet({"name": "late"})
        with caller(amqp_uri) as proxy:
            assert proxy.greeter.count({"name": "x"}) == {"greetings": 0}
    assert GreeterService.calls == []


def test_a_command_whose_deadline_passes_while_it_runs_is_not_stored(amqp_uri):
    with running(amqp_uri, GreeterService):
        with caller(amqp_uri, deadline=time.time() + 0.5) as proxy, pytest.raises(
            DeadlineExceeded
        ):
            proxy.greeter.greet_slowly({"name": "slow", "times": 1})
        with caller(amqp_uri) as proxy:
            assert proxy.greeter.count({"name": "x"}) == {"greetings": 0}


def test_settling_an_unanswered_command(amqp_uri):
    done_id, lost_id = str(uuid.uuid4()), str(uuid.uuid4())
    with running(amqp_uri, GreeterService):
        with caller(amqp_uri, done_id) as proxy:
            proxy.greeter.greet({"name": "a"})
        with caller(amqp_uri) as proxy:
            # Carried out: settling returns its outcome.
            done = proxy.greeter.settle_command(done_id, "greet")
            # Never arrived: settling abandons it for good...
            lost = proxy.greeter.settle_command(lost_id, "greet")
            assert proxy.greeter.settle_command(lost_id, "greet") == lost
        # ...so when it arrives late it is refused, and nothing is stored.
        with caller(amqp_uri, lost_id) as proxy, pytest.raises(DeadlineExceeded):
            proxy.greeter.greet({"name": "a"})
        # Another actor cannot read or settle someone else's command.
        other = {**WORKER, "id": "worker-2"}
        with caller(amqp_uri, actor=other) as proxy:
            with pytest.raises(NotAllowed):
                proxy.greeter.settle_command(done_id, "greet")
            assert proxy.greeter.count({"name": "x"}) == {"greetings": 1}
    assert done == {"state": "done", "name": "greet", "outcome": {"greeting": "hello a"}}
    assert lost == {"state": "abandoned", "name": "greet"}


def test_a_request_no_caller_makes_is_dropped_unrun_and_the_service_answers_on(amqp_uri, caplog):
    # Any broker user that may publish one call could send these. nameko died on the first two
    # (no reply_to to answer to) and the broker handed them back to the service, restarted,
    # for ever; a reply that could not be made sent the request round again without end.
    GreeterService.calls.clear()
    rpc_exchange = Exchange("nameko-rpc", "topic", durable=True)
    reply_key = str(uuid.uuid4())
    with running(amqp_uri, GreeterService), Connection(amqp_uri) as connection:
        channel = connection.channel()
        replies = Queue(f"rpc.reply-probe-{reply_key}", rpc_exchange, routing_key=reply_key,
                        exclusive=True)(channel)
        replies.declare()

        def send(body: object, **properties: object) -> None:
            Producer(channel).publish(body, exchange=rpc_exchange, routing_key="greeter.greet",
                                      correlation_id=str(uuid.uuid4()), **properties)

        send({"args": [{"name": "nobody"}], "kwargs": {}})  # a command, and nobody to answer
        send({"result": "x", "error": None})  # not a request at all (a reply, dead-lettered)
        send({"result": "x", "error": None}, reply_to=reply_key)
        # No content type at all: nobody can say how to encode its answer.
        channel.basic_publish(amqp.Message(b"{}", reply_to=reply_key,
                                           correlation_id=str(uuid.uuid4())),
                              exchange="nameko-rpc", routing_key="greeter.greet")
        answered = wait_for(lambda: replies.get(accept=["json"]), timeout=30,
                            what="the malformed request with a reply_to to be answered")

        def waiting() -> int:
            return channel.queue_declare("rpc-greeter", passive=True).message_count

        wait_for(lambda: waiting() == 0, timeout=30, what="rpc-greeter to hold no request")
        with caller(amqp_uri) as proxy:
            assert proxy.greeter.greet({"name": "a"}) == {"greeting": "hello a"}
            assert proxy.greeter.count({"name": "x"}) == {"greetings": 1}
        assert waiting() == 0
    assert answered.payload["error"]["exc_type"] == "MalformedRequest"
    assert GreeterService.calls == [{"name": "a", "times": 1}]  # the one without reply_to never ran
    dropped = [record.getMessage() for record in caplog.records
               if record.getMessage().startswith("dropped a request to greeter.greet")]
    assert len(dropped) == 3, dropped
    assert not [record for record in caplog.records if record.levelname == "CRITICAL"]


def test_an_answer_its_callers_queue_refuses_is_dropped_once_not_sent_round_again(
        amqp_uri, caplog):
    # A reply queue full and set to refuse (which an outside broker user may declare): the
    # broker nacks the answer. Sent back to its queue, the request went round as fast as the
    # service could answer it, for as long as the caller kept the queue.
    GreeterService.calls.clear()
    rpc_exchange = Exchange("nameko-rpc", "topic", durable=True)
    reply_key = str(uuid.uuid4())
    with running(amqp_uri, GreeterService), Connection(amqp_uri) as connection:
        channel = connection.channel()
        Queue(f"rpc.reply-probe-{reply_key}", rpc_exchange, routing_key=reply_key,
              exclusive=True, queue_arguments={"x-queue-type": "classic", "x-max-length": 0,
                                               "x-overflow": "reject-publish"})(channel).declare()
        Producer(channel).publish({"args": [{"name": "b"}], "kwargs": {}}, exchange=rpc_exchange,
                                  routing_key="greeter.greet", reply_to=reply_key,
                                  correlation_id=str(uuid.uuid4()),
                                  headers={"nameko.actor": WORKER})
        wait_for(lambda: [record for record in caplog.records
                          if "MessageNacked" in record.getMessage()], timeout=30,
                 what="the refused answer to be logged")
        with caller(amqp_uri) as proxy:  # the service answers on, the request run once
            assert proxy.greeter.count({"name": "x"}) == {"greetings": 1}
        assert channel.queue_declare("rpc-greeter", passive=True).message_count == 0
    assert GreeterService.calls == [{"name": "b", "times": 1}]
    messages = [record.getMessage() for record in caplog.records]
    assert [message for message in messages if "dropped a request" in message] == [
        "dropped a request to greeter.greet whose answer cannot be made (MessageNacked); a "
        "command's outcome is stored"]
    assert not [message for message in messages if message.startswith("could not reply")]
