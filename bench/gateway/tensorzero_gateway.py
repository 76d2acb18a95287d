"""TensorZero's gateway for bench/gateway.sh, from the `tensorzero` wheel.

The wheel ships the gateway (Rust, in tensorzero.abi3.so) and starts it on a
free loopback port in this process (the helper behind its deprecated
`patch_openai_client`); no separate binary or Docker image is needed. Writes
the gateway's OpenAI base URL (http://127.0.0.1:PORT/openai/v1) to URL_FILE
(its logs go to stdout), then serves until SIGTERM.

    python tensorzero_gateway.py CONFIG.toml URL_FILE
"""

import os
import signal
import sys

import tensorzero


def main() -> None:
    gateway = tensorzero._start_http_gateway(
        config_file=sys.argv[1],
        clickhouse_url=None,
        postgres_url=None,
        valkey_url=None,
        async_setup=False,
    )
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(gateway.base_url + "\n")
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    gateway.close()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
