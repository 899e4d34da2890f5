"""The base of every error a user can cause (bad path, bad file, bad option): the CLI prints it as one line."""


class AslError(Exception):
    pass
