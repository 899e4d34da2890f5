"""`python -m asl.train …`, the entry `torchrun` starts: `torchrun --nproc-per-node N -m asl.train --data … --out …`.

The same command and options as `asl train`.
"""
from asl.runtime.cli import configure_logging
from asl.train.cli import train

if __name__ == "__main__":
    configure_logging()  # what the `asl` group does before its verbs: the run's progress lines on stderr
    train.main(prog_name="python -m asl.train")
