"""The merchant texts of a shard (titles, descriptions, ads, live-stream transcripts, chats) with
TEXT001-006 and REVIEW002 injected and 10% of texts carrying a hard negative."""

from __future__ import annotations

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate import inject_content as ic
from promoguard.simulate import texts as tx
from promoguard.simulate.world import CATEGORY_NAMES, _ids

TEXT_ELIGIBLE = {
    "TEXT001": ("listing_title", "listing_description", "ad", "livestream"),
    "TEXT002": ("listing_title", "listing_description", "ad", "livestream"),
    "TEXT003": ("listing_description", "chat", "ad"),
    "TEXT004": ("listing_description", "chat", "livestream"),
    "TEXT005": ("chat",),
    "TEXT006": ("livestream",),
    "REVIEW002": ("listing_description", "chat", "ad"),
}


def merchant_texts(rng, w, plan, o_listing, o_merchant, o_paid, shard, rates):
    nl = len(w.listing_id)
    kind, m_idx, l_idx, created, lang, content = [], [], [], [], [], []

    def add(k: str, mm: int, li: int, t: int, lg: str, text: str) -> None:
        kind.append(k)
        m_idx.append(mm)
        l_idx.append(li)
        created.append(t)
        lang.append(lg)
        content.append(text)

    llang = np.where(rng.random(nl) < 0.85, "zh", "en")
    titles = np.empty(nl, dtype=object)
    for li in range(nl):
        c, nn, b, lg = (
            int(w.listing_category[li]),
            int(w.listing_noun[li]),
            int(w.listing_brand[li]),
            str(llang[li]),
        )
        t = (
            cal.T0
            + int(plan.start_day[li]) * cal.DAY
            - int(rng.integers(1, 200)) * cal.HOUR * (1 if plan.start_day[li] else 12)
        )
        titles[li] = tx.title(rng, c, nn, b, lg)
        add("listing_title", int(w.listing_merchant[li]), li, t, lg, titles[li])
        add(
            "listing_description",
            int(w.listing_merchant[li]),
            li,
            t,
            lg,
            tx.description(rng, c, nn, b, lg),
        )
    first_listing = np.full(len(w.merchant_id), -1)
    first_listing[w.listing_merchant[::-1]] = np.arange(nl)[::-1]
    for mm in range(len(w.merchant_id)):
        li = int(first_listing[mm])
        c, nn, b = int(w.listing_category[li]), int(w.listing_noun[li]), int(w.listing_brand[li])
        for _ in range(2):
            lg = "zh" if rng.random() < 0.8 else "en"
            day = int(rng.integers(30, cal.D11_DAY + 1))
            add(
                "ad",
                mm,
                li if rng.random() < 0.5 else -1,
                cal.T0 + day * cal.DAY + int(rng.integers(cal.DAY)),
                lg,
                tx.ad(rng, c, nn, b, lg),
            )
        if w.merchant_live[mm]:
            for _ in range(int(rng.integers(3, 7))):
                lg = "zh" if rng.random() < 0.85 else "en"
                day = int(
                    rng.choice(
                        [
                            cal.PRESALE_FIRST_DAY,
                            cal.PRESALE_FIRST_DAY + 5,
                            cal.D11_DAY - 3,
                            cal.D11_DAY,
                        ]
                    )
                )
                add(
                    "livestream",
                    mm,
                    li,
                    cal.T0 + day * cal.DAY + 20 * cal.HOUR,
                    lg,
                    tx.livestream(rng, c, nn, b, lg, int(plan.P[li, day]), int(plan.P[li, 7])),
                )
    chat_rows = np.flatnonzero(rng.random(len(o_paid)) < 0.12)
    chat_lang = np.where(rng.random(len(chat_rows)) < 0.9, "zh", "en")
    chat_at = o_paid[chat_rows] + rng.integers(5 * cal.MINUTE, 2 * cal.DAY, len(chat_rows))
    banks = {lg: [tx.chat(rng, lg) for _ in range(300)] for lg in ("zh", "en")}
    pick_i = rng.integers(0, 300, len(chat_rows))
    for i, lg, t, b in zip(
        chat_rows.tolist(), chat_lang.tolist(), chat_at.tolist(), pick_i.tolist(), strict=True
    ):
        add("chat", int(o_merchant[i]), int(o_listing[i]), t, lg, banks[lg][b])
    nt = len(kind)
    kind_a = np.array(kind, dtype=object)
    l_a = np.array(l_idx)
    m_a = np.array(m_idx)
    text_cat = np.where(l_a >= 0, w.listing_category[np.maximum(l_a, 0)], w.merchant_category[m_a])
    cat_name = CATEGORY_NAMES[text_cat]
    codes: list[set[str]] = [set() for _ in range(nt)]
    for code, kinds in TEXT_ELIGIBLE.items():
        ok = np.isin(kind_a, kinds)
        if code == "TEXT002":
            ok &= np.isin(cat_name, ic.TEXT002_CATEGORIES)
        cand = np.flatnonzero(ok)
        rate = rates.text006 if code == "TEXT006" else rates.text
        k = min(len(cand) // 4, max(22, round(rate * len(cand))))
        for i in rng.choice(cand, size=k, replace=False):
            p, carried = ic.phrase(rng, code, lang[i])
            sep = "" if lang[i] == "zh" else " "
            content[i] = (p + sep + content[i]) if rng.random() < 0.4 else (content[i] + sep + p)
            codes[i] |= carried
    # hard negatives: legitimate look-alikes in 10% of texts
    for i in np.flatnonzero(rng.random(nt) < 0.10):
        sep = "" if lang[i] == "zh" else " "
        content[i] = content[i] + sep + ic.hard_negative(rng, lang[i], str(cat_name[i]))
    titles = np.array(
        content[0 : 2 * nl : 2], dtype=object
    )  # listings.title = the final title text
    text_ids = _ids(f"T{shard:03d}", np.arange(nt), 7)
    truth = [(c, "text", str(text_ids[i])) for i in range(nt) for c in sorted(codes[i])]
    cols = {
        "text_id": text_ids,
        "kind": kind_a,
        "merchant_id": w.merchant_id[m_a],
        "listing_id": np.where(l_a >= 0, w.listing_id[np.maximum(l_a, 0)], None).astype(object),
        "created_at": np.array(created, dtype=np.int64),
        "lang": np.array(lang, dtype=object),
        "content": np.array(content, dtype=object),
        "_titles": titles,
    }
    return cols, truth
