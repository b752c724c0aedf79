"""Errors a person can cause through a service call; the message is shown to them as is."""


class ServiceError(Exception):
    pass


class NotFound(ServiceError, LookupError):
    pass
