"""Package data: the shipped models and scenarios (installed from models/ and scenarios/)."""
