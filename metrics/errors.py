"""The one domain error family. Library errors are translated into these at the edge."""


class CampaignLensError(Exception):
    """An error a person sees: one plain sentence saying what happened and what to do."""

    exit_code = 1


class UsageError(CampaignLensError):
    exit_code = 2


class InputError(CampaignLensError):
    exit_code = 3
