"""The demo's notification steps: a hub's receiver on 127.0.0.1 registered as the tenant's webhook,
and, at the end, the events it received with their signatures checked by ``standardwebhooks``.

The receiver runs in the demo's process; the stack's delivery worker POSTs to it (the local stack
alone allows ``http://127.0.0.1:PORT``). The latency shown is from each entry status change (its
``occurred_at``, the worker's write) to the receiver.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import datetime

from local.demo_story import StepFailed, StoryPort
from local.receiver import WebhookReceiver


class HubWebhook:
    """The demo hub's endpoint and the secret it was given."""

    def __init__(self) -> None:
        self.receiver = WebhookReceiver()
        self.secret = ""

    def register(self, story: StoryPort) -> str:
        self.receiver.start()
        body = story.call("PUT", "/webhook", (200,), json={"url": self.receiver.url})
        self.secret = str(body["secret"])
        return f"webhook {self.receiver.url} registered; secret whsec_… shown once to the hub"

    def _final_statuses_seen(self, story: StoryPort) -> tuple[bool, str]:
        events = self.receiver.verified(self.secret)
        final = {
            e["data"]["entry_id"]
            for e in events
            if e["type"] == "entry.status_changed"
            and e["data"]["status"] in {"uploaded", "rejected", "failed"}
        }
        missing = [entry_id for entry_id in story.sent if entry_id not in final]
        return not missing, f"{len(events)} events so far, {len(missing)} entries without their final status"

    def report(self, story: StoryPort) -> str:
        story.wait("waiting for the last deliveries", lambda: self._final_statuses_seen(story), 60)
        time.sleep(1.0)  # the stragglers of the last batch
        accepted = self.receiver.accepted()
        events = self.receiver.verified(self.secret)
        if len(events) != len(accepted):
            raise StepFailed(f"{len(accepted) - len(events)} deliveries failed signature verification")
        counts = Counter(e["type"] for e in events)
        latencies = sorted(
            delivery.received_at
            - datetime.fromisoformat(delivery.verify(self.secret)["occurred_at"]).timestamp()
            for delivery in accepted
            if delivery.verify(self.secret)["type"] == "entry.status_changed"
        )
        lines = [f"{len(events)} events received, every signature verified with standardwebhooks:"]
        lines += [f"    {count:>3} × {event_type}" for event_type, count in sorted(counts.items())]
        for event in [e for e in events if e["type"] == "entry.status_changed"][:3]:
            data = event["data"]
            lines.append(
                f"    e.g. {event['id']}: {data['entry_id']} {data['previous_status']} → {data['status']}"
            )
        if latencies:
            lines.append(
                f"    status change → receiver: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"worst {latencies[-1] * 1000:.0f} ms over {len(latencies)} deliveries"
            )
        self.receiver.stop()
        return "\n".join(lines)
