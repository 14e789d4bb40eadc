"""--driver auto: guests where KVM runs them, processes otherwise, and a data directory keeps the driver its
instances were made with. The host's KVM and libvirt are stood in for: what is tested is the choice."""

import logging

from emulator.config import Settings
from emulator.drivers import choice
from emulator.runtime import boot


def host(monkeypatch, kvm_device=True, libvirt=True, image=True, kvm_boots=True):
    monkeypatch.setattr(choice, "_kvm_device", lambda: kvm_device)
    monkeypatch.setattr(choice, "_libvirt_installed", lambda: libvirt)
    monkeypatch.setattr(choice.cache, "find", lambda cache_dir, fingerprint: object() if image else None)
    monkeypatch.setattr(choice.hypervisor, "kvm_works", lambda image, cache_dir: kvm_boots)


def test_guests_only_where_kvm_boots_their_kernel(monkeypatch, tmp_path):
    host(monkeypatch)
    assert choice.choose(tmp_path, None).driver == "libvirt"
    for missing in ({"kvm_device": False}, {"libvirt": False}, {"image": False}, {"kvm_boots": False}):
        host(monkeypatch, **missing)
        made = choice.choose(tmp_path, None)
        assert made.driver == "process" and made.reason
    host(monkeypatch, kvm_device=False)
    assert "software emulation" in choice.choose(tmp_path, None).reason


def test_a_data_directory_keeps_the_driver_its_instances_run_on(monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="emulator.runtime")
    host(monkeypatch, kvm_device=False)
    settings = Settings(data_dir=tmp_path / "data", auth="off")
    assert settings.driver == "auto"
    runtime = boot(settings, schedule=False)
    assert runtime.ctx.settings.driver == "process"
    runtime.close()
    assert "driver: process (auto: no usable /dev/kvm" in caplog.text
    host(monkeypatch)  # the host runs guests now: the instances stay where they are
    runtime = boot(settings, schedule=False)
    assert runtime.ctx.settings.driver == "process"
    runtime.close()
    assert choice.choose(tmp_path, None).driver == "libvirt"
