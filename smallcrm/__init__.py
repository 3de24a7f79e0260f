"""smallcrm: a terminal-first CRM for small sales teams."""

__version__ = "0.1.0"
