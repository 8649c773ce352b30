# docs/docs.mk: `make docs` regenerates the captures docs/protocol.md and docs/zh/protocol.md show
# (included by the top-level Makefile, whose O it uses). tests/integration/test_docs.py fails
# when the committed pages differ from what this produces.
.PHONY: docs
docs: $(O)/tools/protocol_examples
	@/usr/bin/python3 tests/tools/docs.py --write --tool $(O)/tools/protocol_examples
