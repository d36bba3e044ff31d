#!/usr/bin/env python3
"""Where a heap's bytes are, by owner: heaptrack's stacks at the heap's
peak (heaptrack_print --flamegraph-cost-type peak -F FILE), each put under
the first frame from the allocation outwards that names a known owner.

    heap_owners.py STACKS MEMBERS

prints MiB and bytes a member for each owner, largest first.  The figures
are what was asked of malloc (no allocator overhead, no free space kept).
"""
import collections
import re
import sys

# (owner, pattern of a frame), the first match from the leaf wins.
OWNERS = [
    ("tvspace: call (struct call, ua_call_new)", r"^ua_call_new$"),
    ("tvspace: offer (its m= lines)", r"^(sdpneg_parse_offer|pack_offer|read_offer|ua_read_offer)$"),
    ("tvspace: last SDP sent", r"^(keep_local_sdp|ua_call_sdp|ua_call_resume_sdp|ua_call_restore_sdp)$"),
    ("tvspace: dialog identifiers", r"^(keep_ids|ua_call_capture_(dialog|uac)|ua_call_set_local_tag|on_ack)$"),
    ("tvspace: member (space.c)", r"^member_new$"),
    ("tvspace: member's streams", r"^take_streams$"),
    ("tvspace: service cache", r"^(put|looked_up|service_read)$"),
    ("tvspace: hash tables", r"^hash_"),
    ("tvspace: spaces", r"^(space_new|space_open|catalog_channel_copy|day_attach)"),
    ("tvspace: steps (continuations)", r"^ua_step$"),
    ("tvspace: media", r"^(source_new|tsfile_open|media_)"),
    ("tvspace: gate (fixed tables)", r"^ua_gate_init$"),
    ("nua: handle tags (nua_handle_save_tags)", r"^nua_handle_save_tags$"),
    ("nua: handle (nh_create_handle)", r"^nh_create_handle$"),
    ("nta: dialog leg (nta_leg_tcreate)", r"^nta_leg_(tcreate|tag)$"),
    ("nua: dialog usage", r"^nua_dialog_usage_add$"),
    ("nua: dialog route and peer", r"^nua_dialog_(uas_route|store_peer_info)$"),
    ("nta: responses kept by transactions", r"^nta_incoming_(create_response|treply|complete_response)$"),
    ("nua: response headers", r"^nua_server_respond$"),
    ("tport: messages sent", r"^tport_prepare_and_send$"),
    ("tport: messages received", r"^tport_recv"),
    ("nta: server transactions", r"^tport_deliver$"),
    ("libpq, db", r"^(PQ|pq|db_|store_)"),
    ("start-up", r"^(main|_dl_init)$"),
]


def main():
    stacks, members = sys.argv[1], int(sys.argv[2])
    rules = [(name, re.compile(rx)) for name, rx in OWNERS]
    total = collections.Counter()
    for line in open(stacks):
        stack, _, cost = line.rstrip("\n").rpartition(" ")
        frames = [re.sub(r" \(.*\)$", "", f) for f in stack.split(";") if f]
        owner = "other"
        for f in reversed(frames):
            owner = next((n for n, rx in rules if rx.search(f)), None)
            if owner:
                break
        total[owner or "other"] += int(cost)
    for name, v in total.most_common():
        print(f"{v / 1048576:9.2f} MiB {v / members:8.0f} B/member  {name}")
    s = sum(total.values())
    print(f"{s / 1048576:9.2f} MiB {s / members:8.0f} B/member  all")


main()
