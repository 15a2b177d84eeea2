"""A silent service says where it waits: SIGUSR1 logs every greenthread's stack, and the service
goes on answering."""

import signal

from tests.support.services import ServiceProcess, rpc
from tests.support.waiting import wait_for


def test_sigusr1_logs_each_greenthread_stack_and_the_service_keeps_answering(amqp_uri, tmp_path):
    archive = ServiceProcess("archive", amqp_uri, tmp_path).start()
    try:
        assert archive.process is not None
        process = archive.process

        def stacks() -> str | None:
            # The dump is written line by line, and the subscription pumps may start after
            # the service answers ping: ask again until a whole dump shows them waiting.
            logged = archive.log_path.read_text()
            if "greenthread 1 of" in logged and "in _pump" in logged:
                return logged
            process.send_signal(signal.SIGUSR1)
            return None
        logged = wait_for(stacks, timeout=30, interval=1,
                          what="the stacks, the subscription pumps waiting among them")
        assert "in _pump" in logged and "greenthread 1 of" in logged
        with rpc(amqp_uri) as proxy:
            assert proxy.archive.ping() == "pong"
        assert archive.process.poll() is None
    finally:
        archive.stop()
