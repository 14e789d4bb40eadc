"""The guest images, one per engine version guests serve: the default one found or built in the background at
start (with its KVM verdict, then the saved template), the others built the first time a task needs one. A
guest's home records which engine version its disk holds, so that a version upgrade (major or minor), which
asks for another, moves the data onto that version's image (a system update)."""

import logging

from emulator.drivers.base import DriverError, ServerSpec
from emulator.drivers.libvirt import hypervisor
from emulator.drivers.libvirt.shared import BUILD_TIMEOUT
from emulator.engines import server as engine
from emulator.failures import Failure
from emulator.images import build, cache, recipe
from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion

log = logging.getLogger(__name__)
# The engine version of the default guest image (recipe.RECIPE: bookworm's MariaDB).
GUEST_ENGINE = recipe.DEFAULT
# Which engine version a guest's disk holds (its row's key), recorded in its home.
ENGINE_RECORD = "engine"


class GuestImages:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    def _prepare(self, warm: bool) -> None:
        try:
            image = build.ensure(self.cache_dir, self._build_progress)
            kvm = hypervisor.kvm_works(image, self.cache_dir)
            self._built, self._kvm, self._version = image, kvm, version_of(image)
            log.info("guest image %s ready; libvirt guests run under %s", image.fingerprint, "KVM" if kvm else
                     "QEMU's software emulation (TCG): KVM did not boot the guest's kernel")
        except build.Cancelled:
            log.info("the guest image's build was stopped with the emulator; the next start builds it again")
            self._unbuilt = "the emulator is stopping"
        except (build.BuildError, Failure, OSError) as error:
            log.error("the guest image could not be built: %s", error)
            self._unbuilt = f"the guest image could not be built: {error}"
        except Exception:  # noqa: BLE001 - a bug: logged, and no instance waits for the image for ever
            log.exception("the guest image could not be built")
            self._unbuilt = "the guest image could not be built (the emulator's log has the details)"
        finally:
            self._prepared.set()
        if warm and self._built is not None and not self._closing.is_set():
            self._prepare_warm()

    def _build_progress(self, number: int, total: int, name: str, elapsed: float) -> None:
        if self._closing.is_set():
            raise build.Cancelled()
        log.info("building the guest image, step %d of %d (%.0f s so far): %s", number, total, elapsed, name)

    @property
    def image(self) -> cache.Image:
        """The guest image, once built: work on a guest waits here while it is (instances stay `creating`),
        and fails with the build's reason if it could not be."""
        if not self._prepared.wait(BUILD_TIMEOUT):
            raise DriverError(f"the guest image was not built within {BUILD_TIMEOUT:.0f} s")
        if self._built is None:
            raise DriverError(self._unbuilt or "the guest image could not be built")
        return self._built

    @property
    def kvm(self) -> bool:
        """Known with the image (the probe boots its kernel): waits as `image` does."""
        return self.image is not None and self._kvm

    def versions(self) -> dict[EngineVersion, str]:
        found = {GUEST_ENGINE: self._version}
        for row in engine_versions.VERSIONS:
            if row != GUEST_ENGINE:
                image = self._others.get(row) or cache.find(self.cache_dir, recipe.fingerprint(row))
                found[row] = version_of(image, row) if image is not None else row.nominal
        return found

    def image_for(self, row: EngineVersion | None) -> cache.Image:
        """The current image of an engine version's guests: built now if this machine has none (a few
        minutes; the task that needs it waits, its instance `creating` or `upgrading`)."""
        if row is None or row == GUEST_ENGINE:
            return self.image
        with self._building:
            if row not in self._others:
                try:
                    self._others[row] = build.ensure(self.cache_dir, self._build_progress, row)
                except (build.BuildError, build.Cancelled) as error:
                    raise DriverError(f"the guest image of {row.name} could not be built: {error}") from None
            return self._others[row]

    def _current(self, spec: ServerSpec) -> cache.Image:
        return self.image_for(spec.version)

    def _record_engine(self, spec: ServerSpec) -> None:
        (self._home(spec) / ENGINE_RECORD).write_text((spec.version or GUEST_ENGINE).key + "\n")

    def _engine_moved(self, spec: ServerSpec) -> bool:
        """Whether the spec asks for another engine version (major or minor) than the guest's disk holds."""
        try:
            held = (self._home(spec) / ENGINE_RECORD).read_text().strip()
        except FileNotFoundError:  # a guest made before the record: the default image's
            held = GUEST_ENGINE.key
        # guests made before minors had rows of their own recorded their family: its current minor's
        family_row = engine_versions.of_family(held)
        return (family_row.key if family_row is not None else held) != (spec.version or GUEST_ENGINE).key


def version_of(image: cache.Image, row: EngineVersion = GUEST_ENGINE) -> str:
    """The version of the server the image carries, as its manifest recorded it at the build."""
    try:
        return engine.parse_version(image.manifest.get("server", ""))[1]
    except ValueError:  # an image built before manifests named it
        return row.nominal
