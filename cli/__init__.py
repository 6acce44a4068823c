"""The command line (``supportgym``) and everything only it uses: the top layer."""
