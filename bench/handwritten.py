"""Hand-written Decimal Python for some shipped policies: the limit the engine is
measured against. Each function takes parsed facts (a dict) and returns the same result
dict as the engine's `decision.result`, with the input checks a careful programmer would
write (required keys, plain decimals, duplicate and out-of-month dates); no trace."""
from __future__ import annotations

import calendar
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

CENT, BASIS_POINT, SATOSHI = Decimal("0.01"), Decimal("0.0001"), Decimal("0.00000001")


def sixty_digits(fn):
    """The engine's documented precision (60 significant digits), so both round alike."""
    def wrapper(facts):
        with localcontext(prec=60):
            return fn(facts)
    wrapper.__name__ = fn.__name__
    return wrapper
ZERO = Decimal(0)


def dec(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a number is needed")
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not d.is_finite():
        raise ValueError("a finite number is needed")
    return d


def money(d: Decimal) -> Decimal:
    out = d.quantize(CENT, rounding=ROUND_HALF_UP)
    return out.copy_abs() if out.is_zero() else out


# -- msa-fee 2024-06-04 ------------------------------------------------------------------
TIERS = ((ZERO, Decimal(2500000), Decimal("0.02")), (Decimal(2500000), Decimal(10000000), Decimal("0.015")),
         (Decimal(10000000), Decimal(25000000), Decimal("0.01")), (Decimal(25000000), None, Decimal("0.005")))
SPOT, FUTURES = Decimal("0.00002"), Decimal("0.00001")


def _month_days(month: str) -> tuple[int, int, int]:
    year, mon = (int(x) for x in month.split("-"))
    return year, mon, calendar.monthrange(year, mon)[1]


@sixty_digits
def msa_fee_2024_06_04(facts: dict) -> dict:
    month = facts["month"]
    year, mon, days = _month_days(month)
    prefix = f"{month}-"
    team = facts["team"]["vip_level"]
    total, trading, rows = ZERO, ZERO, []
    for sub in facts["sub_accounts"]:
        seen, asset_sum, fee_sum = set(), ZERO, ZERO
        for day in sub["daily"]:
            date = day["date"]
            if date in seen or not date.startswith(prefix):
                raise ValueError(f"bad date {date}")
            seen.add(date)
            asset_sum += dec(day.get("asset_value", 0))
            fee_sum += dec(day.get("spot_volume", 0)) * SPOT + dec(day.get("futures_volume", 0)) * FUTURES
        average = asset_sum / days
        applies = team >= 7 and team > sub["investor_vip_level"]
        total += average
        if applies:
            trading += fee_sum
        rows.append({"id": sub["id"], "average_asset_value": money(average), "trading_fee_applies": applies,
                     "meets_minimum_balance": average >= 100000})
    annual = ZERO
    for low, high, rate in TIERS:
        top = total if high is None else min(total, high)
        annual += max(ZERO, top - low) * rate
    asset_fee = annual * days / 365
    minimum = Decimal(500)
    fee = max(asset_fee, trading, minimum)
    basis = "asset_value" if asset_fee >= trading and asset_fee >= minimum else (
        "trading_volume" if trading >= minimum else "minimum")
    return {"month": month, "days_in_month": days, "total_average_asset_value": money(total),
            "asset_value_fee": money(asset_fee), "trading_volume_fee": money(trading), "minimum_fee": money(minimum),
            "fee": money(fee), "basis": basis, "sub_accounts": rows}


# -- msa-fee 2024-06-11 (the revision: a maintenance fee per account below 100,000) ------
@sixty_digits
def msa_fee_2024_06_11(facts: dict) -> dict:
    month = facts["month"]
    _year, _mon, days = _month_days(month)
    team = facts["team"]["vip_level"]
    total, maintenance, trading = ZERO, ZERO, ZERO
    for sub in facts["sub_accounts"]:
        average = sum((dec(d.get("asset_value", 0)) for d in sub["daily"]), ZERO) / days
        total += average
        maintenance += Decimal(500) if average < 100000 else ZERO
        if team >= 7 and team > sub["investor_vip_level"]:
            trading += sum((dec(d.get("spot_volume", 0)) * SPOT + dec(d.get("futures_volume", 0)) * FUTURES
                            for d in sub["daily"]), ZERO)
    return {"total_average_asset_value": money(total), "maintenance_fee": money(maintenance),
            "trading_fee": money(trading), "fee": money(maintenance + trading)}


# -- institutional-loan-ltv 2024-12-05 ---------------------------------------------------
PM_RATIOS = {"BTC": Decimal("0.95"), "ETH": Decimal("0.95"), "SOL": Decimal("0.90"), "XRP": Decimal("0.85"),
             "USDT": Decimal("0.99"), "USDC": Decimal("0.99")}
RATIOS = {"portfolio_margin": PM_RATIOS, "portfolio_margin_pro": PM_RATIOS, "cross_margin_classic": PM_RATIOS,
          "cross_margin_pro": PM_RATIOS, "spot": dict.fromkeys(("BTC", "ETH", "USDT", "USDC", "SOL", "BNB"), Decimal(1))}
ACTIONS = {"normal": [], "margin_call": ["notify_margin_call"],
           "liquidation": ["liquidate", "disable_new_borrowing", "disable_transfer_out"]}
CALL, LIQUIDATION = Decimal("0.85"), Decimal("0.90")


def _state(ltv, previous):
    if ltv is None or ltv >= LIQUIDATION or (previous == "liquidation" and ltv >= CALL):
        return "liquidation"
    return "margin_call" if ltv >= CALL else "normal"


@sixty_digits
def ltv_2024_12_05(facts: dict) -> dict:
    prices = {k: dec(v) for k, v in facts["index_prices"].items()}
    loan = facts["loan"]
    outstanding = dec(loan["principal"]) + dec(loan["interest"])
    owed = outstanding * prices[loan["asset"]]
    transfer = facts.get("transfer_out")
    collateral, maintenance, accounts, ids = ZERO, ZERO, [], set()
    holding = unit = ZERO
    for account in facts["accounts"]:
        if account["id"] in ids:
            raise ValueError("account id twice")
        ids.add(account["id"])
        net, mm = ZERO, ZERO
        for wallet in account["wallets"]:
            kind, ratios = wallet["type"], RATIOS[wallet["type"]]
            value = ZERO
            for asset, amount in wallet["assets"].items():
                amount = dec(amount)
                value += amount * prices[asset] * ratios.get(asset, ZERO)
                if transfer and transfer["account"] == account["id"] and transfer["wallet"] == kind \
                        and transfer["asset"] == asset:
                    holding, unit = amount, prices[asset] * ratios.get(asset, ZERO)
            liabilities = ZERO
            pro_mm = ZERO
            for item in wallet.get("liabilities", ()):
                v = (dec(item["amount"]) + dec(item.get("interest", 0))) * prices[item["asset"]]
                liabilities += v
                if "mmr" in item:
                    pro_mm += v * dec(item["mmr"])
            if kind in ("portfolio_margin", "portfolio_margin_pro"):
                wallet_mm = sum((dec(m["liability"]) * dec(m["mmr"]) * prices[m["asset"]]
                                 for m in wallet.get("maintenance", ())), ZERO)
            elif kind == "cross_margin_classic":
                wallet_mm = Decimal("0.10") * liabilities
            elif kind == "cross_margin_pro":
                wallet_mm = pro_mm
            else:
                wallet_mm = ZERO
            net += value - liabilities
            mm += wallet_mm
        collateral += net
        maintenance += mm
        accounts.append({"id": account["id"], "net_collateral": money(net), "maintenance_margin": money(mm)})
    equity = collateral - maintenance
    ltv = owed / equity if equity > 0 else None
    state = _state(ltv, facts.get("previous_state", "normal"))
    result = {"aggregate_net_collateral": money(collateral), "aggregate_maintenance_margin": money(maintenance),
              "outstanding": outstanding, "ltv": ltv.quantize(BASIS_POINT, rounding=ROUND_DOWN) if ltv is not None else None,
              "state": state, "actions": ACTIONS[state], "transfer": None, "accounts": accounts}
    if transfer:
        amount = dec(transfer["amount"])
        after = equity - amount * unit
        ltv_after = owed / after if after > 0 else None
        if state == "liquidation":
            top = ZERO
        elif unit == 0:
            top = holding
        else:   # largest multiple of 1e-8 with a x (0.9 x unit) < 0.9 x equity - owed
            n, step = LIQUIDATION * equity - owed, LIQUIDATION * unit * SATOSHI
            k = (n / step).to_integral_value(rounding=ROUND_DOWN) if n > 0 else ZERO
            while k > 0 and k * step >= n:
                k -= 1
            while n > 0 and (k + 1) * step < n:
                k += 1
            top = min(holding, k * SATOSHI)
        result["transfer"] = {
            "ltv_after": ltv_after.quantize(BASIS_POINT, rounding=ROUND_DOWN) if ltv_after is not None else None,
            "state_after": _state(ltv_after, state),
            "allowed": state != "liquidation" and ltv_after is not None and ltv_after < LIQUIDATION,
            "max_amount": top.quantize(SATOSHI, rounding=ROUND_DOWN)}
    return result


# -- portfolio-margin-eligibility 2024-12-03 ---------------------------------------------
@sixty_digits
def pm_eligibility_2024_12_03(facts: dict) -> dict:
    vip = facts["vip_level"]
    balance = sum((dec(v) for v in facts["wallet_balances"].values()), ZERO)
    vip_route = vip >= 1          # the VIP level; the FAQ states no volume thresholds
    balance_route = balance > 50000
    eligible = vip_route or balance_route
    reasons = [] if eligible else ["VIP_LEVEL_TOO_LOW", "BALANCE_TOO_LOW"]
    if eligible and not facts["quiz_passed"]:
        reasons.append("QUIZ_NOT_PASSED")
    return {"eligible": eligible, "route": "vip" if vip_route else ("balance" if balance_route else None),
            "can_activate": eligible and facts["quiz_passed"], "reasons": reasons,
            "on_activation": {"consolidate_wallets": ["cross_margin", "usdm_futures", "coinm_futures"],
                              "into": "portfolio_margin"}}


HANDWRITTEN = {
    ("msa-fee", "2024-06-04"): msa_fee_2024_06_04,
    ("institutional-loan-ltv", "2024-12-05"): ltv_2024_12_05,
    ("portfolio-margin-eligibility", "2024-12-03"): pm_eligibility_2024_12_03,
}
