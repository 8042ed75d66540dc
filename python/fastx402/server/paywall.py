"""A small self-contained HTML page for browsers that hit a priced route: what is sold, the
price, and how to pay (an x402 client or agent). No external scripts, styles or fonts."""

from __future__ import annotations

from html import escape

from fastx402._core import PaymentRequired, atomic_to_price, find_asset


def wants_html(accept: str, user_agent: str) -> bool:
    """A browser navigation: it asks for HTML first and says it is a browser."""
    first = accept.split(",", 1)[0].strip().lower()
    return first.startswith("text/html") and "mozilla" in user_agent.lower()


def _price(network: str, asset: str, amount: str) -> str:
    try:
        info = find_asset(network, asset)
    except ValueError:
        return f"{amount} (smallest units of {asset})"
    symbol = info.get("symbol") or info["name"]
    return f"{atomic_to_price(amount, info['decimals'])} {symbol}"


def render(required: PaymentRequired) -> bytes:
    resource = required.resource or {}
    url = str(resource.get("url", ""))
    description = str(resource.get("description") or "Paid resource")
    rows = "".join(
        f"<tr><td>{escape(_price(r.network, r.asset, r.amount))}</td>"
        f"<td>{escape(r.network)}</td><td><code>{escape(r.pay_to)}</code></td></tr>"
        for r in required.accepts
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Payment required: {escape(description)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}
td,th{{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}}
code{{font-size:.85em;word-break:break-all}}</style></head>
<body><h1>402 Payment Required</h1>
<p id="description">{escape(description)}</p>
<p>Resource: <code id="resource">{escape(url)}</code></p>
<table><thead><tr><th>Price</th><th>Network</th><th>Pay to</th></tr></thead>
<tbody id="prices">{rows}</tbody></table>
<p>Pay with an <a href="https://www.x402.org">x402</a> client: it reads the
<code>PAYMENT-REQUIRED</code> header of this answer, signs a stablecoin transfer authorization and
sends it back in <code>PAYMENT-SIGNATURE</code>. For example, with fastx402:
<code>fastx402 pay {escape(url)}</code>.</p>
</body></html>
"""
    return page.encode()
