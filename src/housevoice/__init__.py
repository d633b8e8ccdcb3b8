"""housevoice: a private language model that writes in your organization's voice."""

__version__ = "0.1.0"
