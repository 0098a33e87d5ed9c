"""`python -m jupyter_nbchat.testing.limited_kernel LIMIT -f CONNECTION_FILE`: ipykernel whose data
segment is capped at LIMIT bytes (RLIMIT_DATA), as a small machine or container would be."""

import resource
import sys

if __name__ == "__main__":
    limit = int(sys.argv.pop(1))
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()
