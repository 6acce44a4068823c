from tests.llm_server import llm_server  # noqa: F401  (a pytest fixture)
