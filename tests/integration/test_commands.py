"""`@command`: payloads are loaded before a command runs, and `describe()` documents them."""

import pytest
from marshmallow import Schema, fields, validate
from nameko.rpc import rpc

from contracts.errors import InvalidInput
from services.runtime.publishing import Publications
from services.runtime.service import ApplicationDependency, PublishingService, command
from services.runtime.store import CasebookApplication
from tests.support.services import WORKER, running
from tests.support.services import rpc as client


class Greet(Schema):
    """Say hello to a named person."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    times = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=3))


class GreeterApplication(CasebookApplication):
    service = "greeter"


class GreeterService(PublishingService):
    name = "greeter"
    publications = Publications("cases")
    app = ApplicationDependency(GreeterApplication)
    calls: list[dict] = []  # noqa: RUF012 - a test probe

    @rpc
    @command(Greet)
    def greet(self, data: dict) -> str:
        GreeterService.calls.append(data)
        return " ".join([f"hello {data['name']}"] * data["times"])


def test_a_command_gets_its_loaded_payload_and_bad_input_never_reaches_it(amqp_uri):
    GreeterService.calls.clear()
    with running(amqp_uri, GreeterService), client(amqp_uri, WORKER) as proxy:
        assert proxy.greeter.greet({"name": "小明", "times": 2}) == "hello 小明 hello 小明"
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
