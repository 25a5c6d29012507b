"""The decision service (`policy serve`, DESIGN section 7): an HTTP API over a RuleStore."""
