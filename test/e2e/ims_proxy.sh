#!/usr/bin/env bash
# tvspace behind Kamailio as an IMS-style proxy (etc/kamailio-ims.cfg):
# the proxy challenges each terminal (407), asserts the identity it
# authenticated (P-Asserted-Identity; tvspaced trusts only the proxy's
# address, not loopback's From) and record-routes.  alice starts a space
# through it, bob joins and alice allows him, alice comments and switches
# channel; tvspaced is killed with SIGKILL and started, then stopped with
# SIGTERM and started: each time both dialogs are taken up through the
# proxy, and the re-INVITE's ACK too (the stored route set is kept, RFC
# 3261 §12.2.1.2: the scenarios check the proxy's Via on each); alice's
# BYE ends the space and bob's BYE comes through the proxy.
. "$(dirname "$0")/../lib/e2e.sh"
. "$SRC/test/lib/cluster.sh"
cluster_db
tv_config_digest
tv_start

KAM=127.0.0.2:5062
kamailio -f "$SRC/etc/kamailio-ims.cfg" -L "$KAM_MODULES" -D -E -n 2 \
	-A "LISTEN=udp:$KAM" -A "TVSPACED=\"sip:127.0.0.1:$SIP_PORT\"" \
	-A "DBURL=\"tv=>postgres://postgres@127.0.0.1:$PGPORT_NUM/$DBNAME\"" \
	-P "$E2E_DIR/kamailio.pid" >"$E2E_DIR/kamailio.log" 2>&1 &
KAM_PID=$!
for _ in $(seq 1 50); do
	ss -lun | grep -q "127.0.0.2:5062 " && break
	sleep 0.1
done

# ims_party NAME SCENARIO USER TARGET LOCAL_PORT HOLD_MS: through the proxy.
ims_party() {
	sipp -sf "$SCEN/$2.xml" -m 1 -nostdin -i 127.0.0.1 -p "$5" \
		-key user "$3" -key target "$4" -au "$3" -ap tvspace -d "$6" \
		-timeout 120s -timeout_error -recv_timeout 90000 \
		-trace_err -error_file "$E2E_DIR/$1.errors" \
		-trace_msg -message_file "$E2E_DIR/$1.msg" \
		"$KAM" >"$E2E_DIR/$1.out" 2>&1 &
	SIPP_PIDS+=("$!")
	printf -v "SIPP_$1" '%s' "$!"
}

# resumed N: N dialogs taken up since the start (both of this one).
resumed() {
	for _ in $(seq 1 100); do
		[ "$(grep -c " resumed$" "$E2E_DIR/tvspaced.log" || true)" -ge "$1" ] && return 0
		sleep 0.1
	done
	die "the dialogs were not taken up through the proxy"
}

ims_party host ims_host alice share 5091 3000
wait_for "select host_user from spaces where state = 'live'" alice
ims_party guest ims_guest bob space-1 5092 1000
wait_for "select channel from spaces" sports 20
wait_for "select count(*) from members where left_at is null and local_tag is not null" 2
expect_sql "select author || ': ' || btrim(body, E' \r\n') from comments" \
	"alice: what a goal"
expect_sql "select string_agg(user_id || ':' || (route_set like '<sip:127.0.0.2:5062;lr=on%')::text, ',' order by admitted_seq) from members" \
	"alice:true,bob:true"

tv_kill
log "tvspaced killed with SIGKILL"
tv_start
resumed 2
tv_stop
log "tvspaced stopped with SIGTERM"
tv_start
resumed 4
sipp_wait host
sipp_wait guest
wait_for "select state from spaces" ended
n=$(grep -c "2xx takes the stored route set" "$E2E_DIR/tvspaced.log" || true)
[ "$n" -ge 4 ] || fail "$n re-INVITE answers kept the stored route set; 4 expected"
e2e_finish
