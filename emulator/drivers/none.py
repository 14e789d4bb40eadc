"""The control-plane-only driver: no server behind an instance, which is available at once."""

from . import ServerSpec


class NoServerDriver:
    def provision(self, spec: ServerSpec) -> None:
        pass

    def start(self, spec: ServerSpec) -> None:
        pass

    def stop(self, spec: ServerSpec) -> None:
        pass

    def is_running(self, spec: ServerSpec) -> bool:
        return True

    def set_master_password(self, spec: ServerSpec) -> None:
        pass

    def destroy(self, spec: ServerSpec) -> None:
        pass

    def stop_all(self) -> None:
        pass
