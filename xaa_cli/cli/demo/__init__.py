"""``xaa demo``: the whole Cross-App Access flow, narrated, against throw-away reference servers.

``sandbox`` (the throw-away xaa home and the in-process servers), ``browser`` (the scripted user at the
IdP's sign-in page), ``narrate`` (the panels), ``scenario`` (the steps, calling the real command code).
"""
