"""A silent service says where it waits: SIGUSR1 logs every greenthread's stack, and the service
goes on answering."""

import signal

from tests.support.services import ServiceProcess, rpc
from tests.support.waiting import wait_for


def test_sigusr1_logs_each_greenthread_stack_and_the_service_keeps_answering(amqp_uri, tmp_path):
    archive = ServiceProcess("archive", amqp_uri, tmp_path).start()
    try:
        assert archive.process is not None
        archive.process.send_signal(signal.SIGUSR1)
        logged = wait_for(lambda: "greenthread" in archive.log_path.read_text()
                          and archive.log_path.read_text(), timeout=30, what="the stacks")
        # The subscription pumps wait for deliveries: their frames are among the stacks.
        assert "in _pump" in logged
        assert "greenthread 1 of" in logged
        with rpc(amqp_uri) as proxy:
            assert proxy.archive.ping() == "pong"
        assert archive.process.poll() is None
    finally:
        archive.stop()
