"""Driver of tests/rollout/test_ray_two_nodes.py, run as its own process: Ray reads its
authentication mode when it is imported, so a driver for a token-protected cluster must start
with the token in its environment.

    python ray_driver.py ADDRESS spread|pin   -> one JSON line: nodes, placements, rewards
"""

from __future__ import annotations

import json
import sys

import ray

from supportgym.env.ray_pool import RolloutPool

TASK = "refund_within_window-01"


def main(address: str, mode: str) -> None:
    ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        nodes = {
            n["NodeID"]: sorted(k for k in n["Resources"] if k.endswith("_node")) for n in ray.nodes() if n["Alive"]
        }
        if mode == "spread":
            pool = RolloutPool(num_actors=2, envs_per_actor=2, num_cpus_per_actor=0.5, spread=True)
        else:
            pool = RolloutPool(
                num_actors=2, envs_per_actor=1, num_cpus_per_actor=0.5, actor_resources={"second_node": 0.5}
            )
        with pool:
            placed = [p["node_id"] for p in pool.ready()]
            rewards = pool.run_group(TASK, n=4).rewards
        print(json.dumps({"nodes": nodes, "placed": placed, "rewards": rewards}))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
