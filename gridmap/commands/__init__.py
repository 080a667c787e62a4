"""The ``gridmap`` command's subcommands, one module per area; :mod:`gridmap.cli` registers
them on the group and runs them."""
