import time, statistics, attrs, cattrs
from cattrs.gen import make_dict_structure_fn
from synapse_async.models import Task
from synapse_async.models._converter import structurer, make_converter, Model
items = [{"id": i, "project": 1, "data_unit": None, "data": {"n": i, "url": f"https://x/{i}.jpg"},
          "status": "pending", "tags": [1, 2], "created": "2026-12-06T10:00:00Z",
          "modified": "2026-12-06T10:00:00+00:00"} for i in range(10_000)]
hand = structurer(Task)
conv = make_converter()
fn = make_dict_structure_fn(Task, conv, _cattrs_detailed_validation=False, extra=cattrs.override(omit=True))
known = frozenset(a.name for a in attrs.fields(Task) if a.name != "extra")
def via_cattrs(d):
    obj = fn(d, Task)
    if len(d) != len(known & d.keys()):
        obj = attrs.evolve(obj, extra={k: v for k, v in d.items() if k not in known})
    return obj
assert via_cattrs(items[0]) == hand(items[0])
def best(f):
    ts = []
    for _ in range(7):
        t = time.perf_counter(); [f(d) for d in items]; ts.append(time.perf_counter() - t)
    return min(ts)
a = []; b = []
for _ in range(3):
    a.append(best(hand)); b.append(best(via_cattrs))
print(f"hand {min(a)*1e3:.1f} ms / 10k, cattrs make_dict_structure_fn {min(b)*1e3:.1f} ms / 10k, ratio {min(b)/min(a):.2f}x")
