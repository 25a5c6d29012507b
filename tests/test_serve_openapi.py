"""Property tests of the decision service against its own OpenAPI document (schemathesis),
through a real server on 127.0.0.1 started and stopped here: every documented operation is
called with requests generated from its schema (each policy's facts schema included),
valid ones and invalid ones, and every answer must be one the document declares (status,
content type, headers, body schema), never a server error. Bounded: a few examples an
operation and mode, and a time limit for each call.

(Driven by Hypothesis directly: schemathesis.pytest.from_fixture fails to collect under
pytest 9.2 with "'Function' object has no attribute '_nodeid'".)"""
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings   # noqa: E402
from hypothesis.errors import Unsatisfiable   # noqa: E402
from schemathesis import GenerationMode   # noqa: E402

from engine.run.ruleset import RuleStore   # noqa: E402
from engine.serve.app import create_app   # noqa: E402
from test_serve import ROOT, _start   # noqa: E402



@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx, value):   # the batch body is documented as text: its lines, as generated
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else str(value).encode()


# Schema-valid facts may still be refused with 422, as documented: a date no version is in
# effect on, or a number in exponent notation (JSON Schema cannot say "plain notation").
NOT_CHECKED = [schemathesis.checks.positive_data_acceptance]
EXAMPLES = 25   # an operation and mode: about 20 operations, about 15 s in all


@pytest.fixture(scope="module")
def served():
    srv, thread, base = _start(create_app(RuleStore(ROOT / "rules"), max_body=256 * 1024, admin_token="s3cret"))
    yield base
    srv.should_exit = True
    thread.join(10)


def _operations(base):
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    return [result.ok() for result in api.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_one_the_document_declares(served, mode):
    operations = _operations(served)
    assert len(operations) > 10
    tried = 0
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=served, timeout=20, excluded_checks=NOT_CHECKED)
        try:
            check()
            tried += 1
        except Unsatisfiable:   # nothing invalid to send: no parameters and no body (GET /health/live)
            assert mode == GenerationMode.NEGATIVE and operation.method.upper() == "GET", operation.label
    assert tried == len(operations) if mode == GenerationMode.POSITIVE else tried >= 10
