"""A fix that acts on the whole machine is never run inside a network namespace.

Found walking the lab with --allow-changes: guest.no_nic's fix became
``ip netns exec GUEST modprobe virtio_net``, offered to run as root. A network namespace
does not contain kernel modules (nor services, nor files), so it would have loaded a
module into the shared host kernel and fixed nothing in the lab.
"""

from __future__ import annotations

import pytest

from vnetdoctor.knowledge.apply import FixRefused, fix_target
from vnetdoctor.knowledge.catalog import guidance_text, render_fix
from vnetdoctor.knowledge import catalog
from vnetdoctor.knowledge.model import Fix
from vnetdoctor.knowledge.render import in_vantage
from vnetdoctor.probes.vantage import parse_vantage


def _modprobe() -> Fix:
    (template,) = [t for t in catalog.get_cause("guest.no_nic").fixes if t.command.startswith("modprobe")]
    return render_fix(template, "en", strict=True)


def test_a_module_load_in_a_namespace_is_shown_never_run() -> None:
    fix = in_vantage(_modprobe(), parse_vantage("netns:lab-guest"))
    assert not fix.runnable and fix.argv == ()
    assert fix.command == "modprobe virtio_net" and fix.where == "netns:lab-guest"
    with pytest.raises(FixRefused):
        fix_target(fix)
    for lang, words in (("en", "would change this machine itself"), ("zh", "不隔离内核模块")):
        text = guidance_text(fix, lang)
        assert words in text and "modprobe virtio_net" in text and "netns:lab-guest" in text


def test_it_stays_guidance_in_the_record() -> None:
    fix = in_vantage(_modprobe(), parse_vantage("netns:lab-guest"))
    again = Fix.from_dict(fix.to_dict())
    assert again == fix and not again.runnable


@pytest.mark.parametrize("where", ["local", "libvirt:web1"])
def test_where_it_reaches_the_machine_itself_it_stays_runnable(where: str) -> None:
    fix = in_vantage(_modprobe(), parse_vantage(where))
    assert fix.runnable and fix.argv == ("modprobe", "virtio_net")


def test_namespace_local_commands_still_run_in_the_namespace() -> None:
    fix = in_vantage(Fix.of(["ip", "link", "set", "dev", "eth0", "up"], risk="low"),
                     parse_vantage("netns:lab-guest"))
    assert fix.runnable and fix.argv[:4] == ("ip", "netns", "exec", "lab-guest")
