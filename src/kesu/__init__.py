"""kesu (客诉): complaint handling for telecom operators in China."""

__version__ = "0.1.0"
