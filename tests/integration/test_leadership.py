"""One active relay per service, on either store: the second instance stands by until the first
goes (DESIGN.md "Delivery" 5)."""

import eventlet

from services.runtime.leader import leadership
from services.runtime.store import store_env


def test_a_second_instance_stands_by_until_the_leader_goes(store):
    env = store_env("leadtest", store)
    order = []
    release = eventlet.event.Event()

    def instance(name, hold_until_released):
        with leadership(env, "relay", lambda: True, poll_seconds=0.05) as leading:
            order.append((name, leading))
            if hold_until_released:
                release.wait()

    first = eventlet.spawn(instance, "first", True)
    eventlet.sleep(0.2)
    second = eventlet.spawn(instance, "second", False)
    eventlet.sleep(0.3)
    assert order == [("first", True)]  # the second is standing by
    release.send()
    first.wait()
    second.wait()
    assert order == [("first", True), ("second", True)]


def test_a_standby_asked_to_stop_never_leads(store):
    env = store_env("leadtest", store)
    with leadership(env, "relay", lambda: True) as leading:
        assert leading
        with leadership(env, "relay", lambda: False) as standby:
            assert standby is False
