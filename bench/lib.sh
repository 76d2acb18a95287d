# Shared by the bench scripts: start the fake providers and write a config for
# seven Anthropic-style providers sharing one fake Statuspage.
#   start_fakes DELAYS   (comma-separated seconds, one per provider) -> sets $port, $fake
#   write_config FILE    (the dashboard on a free port, so a running Switchboard is not disturbed)

start_fakes() {
    python3 "$here/fake_providers.py" "$1" >"$tmp/port" &
    fake=$!
    for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    port=$(cat "$tmp/port")
}

write_config() {
    {
        echo 'use_catalog = false'
        printf '[server]\nlisten = "127.0.0.1:0"\n'
        for i in 0 1 2 3 4 5 6; do
            printf '[[providers]]\nid = "p%s"\nkind = "anthropic"\nbase_url = "http://127.0.0.1:%s/p%s"\nstatus_page = "http://127.0.0.1:%s"\nstatus_format = "statuspage"\napi_key_env = "BENCH_KEY"\n' "$i" "$port" "$i" "$port"
        done
    } >"$1"
}
