"""``python -m synapse_async.cli``: the ``synapse`` command."""

from synapse_async.cli.app import main

if __name__ == "__main__":
    main()
