"""An Anthropic-compatible gateway run as a JupyterHub service, so no user's Jupyter server
holds the organisation's Claude key: each server calls it with its user's own JupyterHub API
token, the gateway checks that token with the hub, counts the call against that user's budget,
and forwards it with the org key only it holds. See docs/deploy.md ("JupyterHub: keys no user
can take").

    python -m jupyter_nbchat.hub_gateway [--budget-tokens=N] [--budget-period=month] [--db=PATH]
"""
