"""gongkai: government information-disclosure annual reports → statistics warehouse."""

__version__ = "0.1.0"
PARSER_VERSION = "0.1.0"
