"""The one object that is fitted, saved and served: :class:`RecommenderPipeline`.

It turns purchase rows into the weighted customer x product matrix, fits the chosen model, and
answers every question the dashboard and the CLI ask, in customer and product ids. It is not a
scikit-learn ``Pipeline``: turning purchase lines into customer rows changes the number of
samples. The estimators inside it follow scikit-learn's rules.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.errors import NotFittedError, RecsysError, UnknownCustomerError
from recsys.models.factory import make_model, segment_arguments
from recsys.models.fallback import MODEL, OFFER_BOOST, REASON_NAMES, PopularityFallback, Slots
from recsys.models.matrix import IdIndex, Weighting, build_interactions, time_decay
from recsys.models.ranking import top_n
from recsys.models.user_knn import UserKNN, neighbors_to_graph
from recsys.params import ModelParams
from recsys.rewards.offer_book import (
    OfferBook,
    RecCodes,
    RecKeys,
    fit_spend_profile,
    last_purchase_days,
    redemption_counts,
)
from recsys.rewards.rerank import POOL_FACTOR, pool_offer_values, rerank_for_rewards
from recsys.versions import library_versions

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

DEFAULT_CHUNK_SIZE = 1024
# Chunks whose neighbours are searched together (on n_jobs threads).
BLOCK_CHUNKS = 4
# Offer books (one per as-of day) a pipeline keeps ready.
_OFFER_BOOKS_KEPT = 8
# Caches on a fitted pipeline (per-day offer books and keys, the neighbour table): rebuilt on
# demand, never saved with the model.
_CACHES = ("_offer_books", "_offer_keys", "_neighbor_table")
# The largest neighbour table a full pass keeps (iter_slots(keep_neighbors=True)): 12 bytes per
# (customer, neighbour), so 1M customers x k=20 is 240 MB and k=80 stays under the bound.
NEIGHBOR_TABLE_BYTES = 1 << 30


def _text_array(values: object) -> pd.api.extensions.ExtensionArray:
    """``values`` as a pandas ``str`` array (no copy when they already are one)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype == "str":
        return values
    return pd.array(np.asarray(values, dtype=object), dtype="str")


REC_COLUMNS = [S.RANK, S.PRODUCT_ID, S.PRODUCT_NAME, S.CATEGORY, S.SCORE, S.SUPPORT, S.REASON]
SIMILAR_COLUMNS = [S.RANK, S.NEIGHBOR_ID, S.SIMILARITY, S.SHARED_PRODUCTS, S.SEGMENT]
EXPLAIN_COLUMNS = [S.NEIGHBOR_ID, S.SIMILARITY, S.NEIGHBOR_VALUE, S.CONTRIBUTION, S.SHARE]


class RecommenderPipeline:
    """Purchases in, recommendations with reasons and eligible rewards out.

    Parameters
    ----------
    params : ModelParams, optional
        The settings; defaults to :class:`ModelParams`' (user-kNN, k=200, asymmetric cosine,
        similarity power 3, popularity penalty 0.2, binary weighting).

    Examples
    --------
    >>> from recsys.data.dataset import load_dataset
    >>> purchases = b"customer_id,product_id\\na,x\\na,y\\nb,x\\nb,y\\nb,z\\nc,z\\n"
    >>> pipe = RecommenderPipeline(ModelParams(n_neighbors=2)).fit(load_dataset(purchases))
    >>> pipe.recommend("a", n=1)["product_id"].tolist()
    ['z']
    """

    def __init__(self, params: ModelParams | None = None) -> None:
        self.params = params or ModelParams()

    # ------------------------------------------------------------------ fitting
    def fit(self, data: Dataset, *, progress: Progress | None = None) -> RecommenderPipeline:
        """Build the matrix from ``data`` and fit the model; returns ``self``."""
        report = progress or (lambda fraction, message: None)
        started = time.perf_counter()
        for cache in _CACHES:  # books and keys of a previous fit are stale
            self.__dict__.pop(cache, None)
        params = self.params

        report(0.05, "Building the customer x product matrix")
        raw = build_interactions(data.purchases, value=params.value)
        self.customers_: IdIndex = raw.customers
        self.products_: IdIndex = raw.products
        self.purchased_ = (raw.matrix > 0).astype(np.float32).tocsr()

        report(0.2, f"Weighting values ({params.weighting})")
        self.weighting_ = Weighting(weighting=params.weighting).fit(raw.matrix)
        self.X_ = self.weighting_.transform(raw.matrix).tocsr()
        if params.half_life_days > 0:
            report(0.3, f"Time decay (half-life {params.half_life_days:g} days)")
            self.X_ = time_decay(
                self.X_, data.purchases, self.customers_, self.products_, params.half_life_days
            )

        self.customer_segments_ = data.segments()
        self.segments_ = self._segment_series(data)
        self.segment_codes_, self.segment_names_ = self._encode_segments(self.segments_)
        self.fallback_ = PopularityFallback(
            self.purchased_, self.segment_codes_, len(self.segment_names_)
        )

        report(0.35, f"Fitting {params.label()}")
        self.model_ = make_model(params)
        self.model_.fit(self.X_, **segment_arguments(params, self.segment_codes_))
        # Similar customers and explanations always come from a user-kNN, whatever ranks; for
        # another model that index is built on first use (see `neighbors_`).
        if isinstance(self.model_, UserKNN):
            self._neighbors = self.model_

        self.catalogue_ = self._aligned_catalogue(data)
        self.rewards_ = data.rewards
        # Spend realism, caps and audience windows (recsys/spend.py): compact, fitted once.
        self.spend_ = fit_spend_profile(data.purchases, self.catalogue_)
        self.redeemed_ = redemption_counts(data.redemptions)
        self.last_purchase_ = last_purchase_days(data.purchases, self.customers_, self.products_)
        self.as_of_ = self._default_as_of(data)
        self.fingerprint_ = data.fingerprint
        self.fit_seconds_ = time.perf_counter() - started
        self.metadata_ = {
            "params": params.to_dict(),
            "dataset": data.name,
            "fingerprint": data.fingerprint,
            "n_customers": len(self.customers_),
            "n_products": len(self.products_),
            "n_purchases": int(len(data.purchases)),
            "nnz": int(self.X_.nnz),
            "n_offers": 0 if data.rewards is None else int(len(data.rewards)),
            "as_of": self.as_of_.date().isoformat(),
            "fit_seconds": round(self.fit_seconds_, 4),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
        }
        report(1.0, "Done")
        log.info("fitted %s on %s in %.2fs", params.label(), data.name, self.fit_seconds_)
        return self

    def _segment_series(self, data: Dataset) -> pd.Series | None:
        segments = self.customer_segments_
        if segments is None:
            return None
        return segments.reindex(pd.Index(self.customers_.ids, name=S.CUSTOMER_ID))

    @staticmethod
    def _encode_segments(segments: pd.Series | None) -> tuple[np.ndarray | None, np.ndarray]:
        if segments is None:
            return None, np.array([], dtype=object)
        codes, names = pd.factorize(segments, sort=True)
        return codes.astype(np.int64), np.asarray(names, dtype=object)

    def _aligned_catalogue(self, data: Dataset) -> pd.DataFrame:
        catalogue = data.catalogue().drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID)
        aligned = catalogue.reindex(pd.Index(self.products_.ids, name=S.PRODUCT_ID))
        return aligned.reset_index()

    @staticmethod
    def _default_as_of(data: Dataset) -> pd.Timestamp:
        if data.has_dates:
            return pd.Timestamp(data.purchases[S.PURCHASE_DATE].max()).normalize()
        return pd.Timestamp.today().normalize()

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("The model has not been trained yet: train it first.")

    @property
    def neighbors_(self) -> UserKNN:
        """The user-kNN index behind similar customers and explanations."""
        self._check_fitted()
        if getattr(self, "_neighbors", None) is None:
            # The user-kNN of these settings (k, metric, power, asymmetry, penalty), so that
            # similar customers and explanations agree with training a user-kNN on them.
            self._neighbors = make_model(replace(self.params, model="user_knn")).fit(self.X_)
        return self._neighbors

    @property
    def customer_ids(self) -> np.ndarray:
        self._check_fitted()
        return self.customers_.ids

    @property
    def product_ids(self) -> np.ndarray:
        self._check_fitted()
        return self.products_.ids

    def _segment_code(self, customer_id: str) -> int:
        """Index of the customer's segment in the fitted segment list, or -1."""
        if self.customer_segments_ is None or customer_id not in self.customer_segments_.index:
            return -1
        found = np.flatnonzero(self.segment_names_ == self.customer_segments_.loc[customer_id])
        return int(found[0]) if found.size else -1

    def _row(self, customer_id: str) -> int:
        self._check_fitted()
        return self.customers_.index_of(str(customer_id))

    # ------------------------------------------------------------------ recommending
    def _recommend_rows(
        self,
        X_rows: sp.csr_matrix,
        rows: np.ndarray | None,
        n: int,
        *,
        exclude_purchased: bool,
        fallback: bool,
        segment_codes: np.ndarray | None,
        customer_ids: np.ndarray | None = None,
        as_of: object | None = None,
        neighbors: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Slots:
        """The one code path behind every recommendation.

        Each array of the slots is ``len(X_rows) x n``. With
        ``params.reward_boost > 0`` the model's candidates are re-ranked with their offers'
        value (``customer_ids`` and ``as_of`` say whose offers, on which day); see
        :func:`recsys.rewards.rerank.rerank_for_rewards`. ``neighbors`` are the rows'
        ``kneighbors`` output when already searched (user-kNN).
        """
        exclude = (X_rows > 0).astype(np.float32).tocsr() if exclude_purchased else None
        knn = isinstance(self.model_, UserKNN)
        # One neighbour search per chunk, shared by scores and support: it is most of the cost.
        if neighbors is None and knn:
            neighbors = self.model_.kneighbors(X_rows, rows=rows)
        boosted = None
        if knn and not getattr(self.params, "reward_boost", 0.0) > 0:
            # Scores, top-n and support straight from the neighbour lists (compiled, one pass).
            items, values, support = self.model_.top_items(
                *neighbors, X_rows, n, exclude_purchased=exclude_purchased
            )
        else:
            graph = neighbors_to_graph(*neighbors, len(self.customers_)) if knn else None
            scores = self.score_rows(X_rows, rows, segment_codes, graph=graph)
            if getattr(self.params, "reward_boost", 0.0) > 0:
                items, values, boosted = self._rerank_for_rewards(
                    scores, n, exclude, customer_ids, as_of
                )
            else:
                items, values = top_n(scores, n, exclude=exclude)
            support = self._support(X_rows, rows, items, graph=graph)
        reasons = np.where(items >= 0, MODEL, -1)
        if boosted is not None:
            reasons = np.where(boosted, OFFER_BOOST, reasons)
        slots = Slots(items, values, support, reasons)
        if fallback:
            slots = self.fallback_.fill(slots, exclude, segment_codes)
        return slots

    def score_rows(
        self,
        X_rows: sp.csr_matrix,
        rows: np.ndarray | None,
        segment_codes: np.ndarray | None,
        *,
        graph: sp.csr_matrix | None = None,
    ) -> sp.csr_matrix | np.ndarray:
        """The model's relevance scores of every product for these rows (``m x n_products``).

        ``rows`` are the rows' training rows (None for new customers), ``segment_codes`` their
        segment codes (:attr:`segment_codes_`); ``graph`` the rows' user-kNN neighbour graph
        when already computed. Used by audiences to score every customer for an offer.
        """
        if graph is not None:
            return self.model_.score_graph(graph)
        extra = segment_arguments(self.params, segment_codes)
        return self.model_.score_items(X_rows, rows=rows, **extra)

    def _rerank_for_rewards(
        self,
        scores: sp.csr_matrix | np.ndarray,
        n: int,
        exclude: sp.csr_matrix | None,
        customer_ids: np.ndarray | None,
        as_of: object | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-``n`` of a larger relevance pool, blended with each candidate's best offer."""
        pool_items, pool_scores = top_n(scores, POOL_FACTOR * n, exclude=exclude)
        if customer_ids is None:  # a what-if basket: nobody's segment, spend or redemptions
            customer_ids = np.full(pool_items.shape[0], "", dtype=object)
        values = pool_offer_values(
            self.offer_book(as_of),
            customer_ids,
            pool_items,
            self.products_.ids,
            self.catalogue_[S.CATEGORY].to_numpy(dtype=object),
        )
        return rerank_for_rewards(pool_items, pool_scores, values, n, self.params.reward_boost)

    def _support(
        self,
        X_rows: sp.csr_matrix,
        rows: np.ndarray | None,
        items: np.ndarray,
        *,
        graph: sp.csr_matrix | None = None,
    ) -> np.ndarray:
        """How many of each row's neighbours bought each recommended product."""
        if not isinstance(self.model_, UserKNN):
            return np.zeros(items.shape, dtype=np.int64)
        if graph is None:
            graph = self.model_.neighbor_graph(X_rows, rows=rows)
        counts = self.model_.support_graph(graph).tocsr()
        safe = np.where(items >= 0, items, 0)
        picked = np.asarray(counts[np.arange(items.shape[0])[:, None], safe].todense())
        return np.where(items >= 0, picked, 0).astype(np.int64)

    def _frame(self, slots: Slots, customer_ids: object | None = None) -> pd.DataFrame:
        """Long-form recommendations, padding dropped, with product names and categories."""
        row_idx, slot = np.nonzero(slots.items >= 0)
        cols = slots.items[row_idx, slot]
        # Text columns are taken from pandas string arrays: gathering Python objects and
        # converting them back to strings cost more than the rest of a chunk's frame.
        catalogue = self.catalogue_
        columns = {
            S.RANK: slot + 1,
            S.PRODUCT_ID: self.products_.take(cols),
            S.PRODUCT_NAME: _text_array(catalogue[S.PRODUCT_NAME]).take(cols),
            S.CATEGORY: _text_array(catalogue[S.CATEGORY]).take(cols),
            S.SCORE: slots.scores[row_idx, slot].astype(float),
            S.SUPPORT: slots.support[row_idx, slot].astype(np.int64),
            S.REASON: _text_array(REASON_NAMES).take(slots.reasons[row_idx, slot]),
        }
        if customer_ids is not None:
            columns = {S.CUSTOMER_ID: _text_array(customer_ids).take(row_idx), **columns}
        return pd.DataFrame(columns)

    def recommend(
        self,
        customer_id: str,
        n: int = 10,
        *,
        exclude_purchased: bool | None = None,
        fallback: bool = True,
        as_of: object | None = None,
    ) -> pd.DataFrame:
        """Top-``n`` products for one customer, with score, support and reason.

        An unknown customer raises :class:`UnknownCustomerError`, unless ``fallback`` is true: then
        they get popular products, labelled ``popular``. ``as_of`` (default: the model's) is the
        day whose offers count when ``params.reward_boost > 0``.
        """
        _, slots = self._customer_slots(customer_id, n, exclude_purchased, fallback, as_of)
        return self._frame(slots)[REC_COLUMNS]

    def _customer_slots(
        self,
        customer_id: str,
        n: int,
        exclude_purchased: bool | None,
        fallback: bool,
        as_of: object | None,
    ) -> tuple[np.ndarray | None, Slots]:
        """:meth:`recommend`'s slots, with the customer's training row (None when unknown)."""
        self._check_fitted()
        n = _check_n(n)
        exclude = self.params.exclude_purchased if exclude_purchased is None else exclude_purchased
        customer_id = str(customer_id)
        if customer_id in self.customers_:
            row = self.customers_.index_of(customer_id)
            X_rows, rows = self.X_[[row]], np.array([row])
            codes = None if self.segment_codes_ is None else self.segment_codes_[rows]
        elif fallback:
            # A customer without purchases (or unknown): popular products, in their segment
            # when the customers file names one.
            X_rows, rows = sp.csr_matrix((1, len(self.products_))), None
            codes = np.array([self._segment_code(customer_id)])
        else:
            raise UnknownCustomerError(customer_id)
        result = self._recommend_rows(
            X_rows,
            rows,
            n,
            exclude_purchased=exclude,
            fallback=fallback,
            segment_codes=codes,
            customer_ids=np.array([customer_id], dtype=object),
            as_of=as_of,
        )
        return rows, result

    def iter_recommendations(
        self,
        customer_ids: Iterable[str] | None = None,
        n: int = 10,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        as_of: object | None = None,
        n_jobs: int | None = -1,
    ) -> Iterator[pd.DataFrame]:
        """Recommendations for many customers, one DataFrame per chunk (bounded memory).

        Same code path as :meth:`recommend` (``as_of`` too), so one-by-one and batch agree.
        The user-kNN neighbour search, most of the cost, runs for several chunks at once on
        ``n_jobs`` threads (default: every core; 1 = one thread) ahead of the scoring; results
        do not depend on ``n_jobs``.
        """
        chunks = self.iter_slots(
            customer_ids, n, chunk_size=chunk_size, progress=progress, as_of=as_of, n_jobs=n_jobs
        )
        for rows, slots in chunks:
            yield self.slots_frame(rows, slots)

    def slots_frame(self, rows: np.ndarray, slots: Slots) -> pd.DataFrame:
        """The long-form frame of :meth:`iter_slots`' chunk: one row per filled slot."""
        return self._frame(slots, customer_ids=self.customers_.take(rows))

    def slot_codes(self, rows: np.ndarray, slots: Slots, as_of: object | None = None) -> RecCodes:
        """The rows of :meth:`slots_frame` as codes for the offer book of ``as_of``."""
        keys, product_category = self._book_keys(as_of)
        row_idx, slot = np.nonzero(slots.items >= 0)
        items = slots.items[row_idx, slot]
        return RecCodes(keys, rows[row_idx], items, product_category[items])

    def _book_keys(self, as_of: object | None) -> tuple[RecKeys, np.ndarray]:
        """The offer book's keys of every customer and product, and each product's category
        code: built once per day, so matching a chunk needs no text lookup."""
        day = self._as_of(as_of)
        kept = self.__dict__.setdefault("_offer_keys", {})
        if day not in kept:
            if len(kept) >= _OFFER_BOOKS_KEPT:
                kept.clear()
            codes, categories = pd.factorize(self.catalogue_[S.CATEGORY])
            keys = self.offer_book(day).keys(
                self.customers_.ids, self.products_.ids, np.asarray(categories, dtype=object)
            )
            kept[day] = (keys, codes.astype(np.int64))
        return kept[day]

    def iter_slots(
        self,
        customer_ids: Iterable[str] | None = None,
        n: int = 10,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        as_of: object | None = None,
        n_jobs: int | None = -1,
        keep_neighbors: bool = False,
    ) -> Iterator[tuple[np.ndarray, Slots]]:
        """:meth:`iter_recommendations` before the frames: each chunk's customer rows and
        their :class:`~recsys.models.fallback.Slots`.

        With ``keep_neighbors`` a pass over every customer (``customer_ids=None``) of a
        user-kNN model keeps every customer's neighbour lists (:meth:`neighbor_table`, at most
        :data:`NEIGHBOR_TABLE_BYTES`), for later passes and offer audiences to reuse instead
        of searching again; once kept, every pass over all customers reads them.
        """
        self._check_fitted()
        n = _check_n(n)
        rows = (
            np.arange(len(self.customers_))
            if customer_ids is None
            else self.customers_.indices_of([str(c) for c in customer_ids])
        )
        size = chunk_size or DEFAULT_CHUNK_SIZE
        knn = isinstance(self.model_, UserKNN)
        # Neighbours are searched per block of chunks, the next block in a background thread
        # (with n_jobs kernel threads) while this one is scored; a block's neighbour lists are
        # small (rows x k), the scoring stays chunk by chunk.
        block = size * BLOCK_CHUNKS if knn else size
        table = self.neighbor_table() if customer_ids is None else None
        if table is not None:  # searched before: the same lists, read in blocks
            found: Iterator[Any] = (
                (table[0][s : s + block], table[1][s : s + block].astype(np.int64))
                for s in range(0, len(rows), block)
            )
        elif knn:
            found = self.model_.iter_kneighbors(
                self.X_[rows], rows=rows, block_size=block, n_jobs=n_jobs
            )
        else:
            found = itertools.repeat((None, None))
        keep = (
            keep_neighbors
            and knn
            and table is None
            and customer_ids is None
            and len(rows) * self.model_.n_neighbors * 12 <= NEIGHBOR_TABLE_BYTES
        )
        kept: list[tuple[np.ndarray, np.ndarray]] = []
        for block_start, (sims, idx) in zip(range(0, len(rows), block), found, strict=False):
            if keep:
                kept.append((sims, idx.astype(np.int32)))
            block_rows = rows[block_start : block_start + block]
            for start in range(0, len(block_rows), size):
                chunk = block_rows[start : start + size]
                neighbors = (sims[start : start + size], idx[start : start + size]) if knn else None
                codes = None if self.segment_codes_ is None else self.segment_codes_[chunk]
                result = self._recommend_rows(
                    self.X_[chunk],
                    chunk,
                    n,
                    exclude_purchased=self.params.exclude_purchased,
                    fallback=True,
                    segment_codes=codes,
                    customer_ids=self.customers_.ids[chunk],
                    as_of=as_of,
                    neighbors=neighbors,
                )
                yield chunk, result
                if progress is not None:
                    done = min(block_start + start + size, len(rows))
                    progress(done / max(len(rows), 1), f"{done:,} of {len(rows):,} customers")
        if keep and len(rows):  # only a finished pass is kept (a stopped one is dropped)
            self._neighbor_table = (
                np.concatenate([s for s, _ in kept]),
                np.concatenate([i for _, i in kept]),
            )

    def neighbor_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Every customer's neighbour similarities (float64) and rows (int32, -1 padding),
        ``n_customers x k`` in row order, when a pass kept them (``iter_slots(...,
        keep_neighbors=True)``); None otherwise. Never saved with the model."""
        return self.__dict__.get("_neighbor_table")

    def recommend_many(
        self,
        customer_ids: Iterable[str] | None = None,
        n: int = 10,
        *,
        chunk_size: int | None = None,
        progress: Progress | None = None,
        as_of: object | None = None,
        n_jobs: int | None = -1,
    ) -> pd.DataFrame:
        """Recommendations for many (default: all) customers in one long DataFrame."""
        frames = list(
            self.iter_recommendations(
                customer_ids,
                n,
                chunk_size=chunk_size,
                progress=progress,
                as_of=as_of,
                n_jobs=n_jobs,
            )
        )
        if not frames:
            return pd.DataFrame(columns=[S.CUSTOMER_ID, *REC_COLUMNS])
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ neighbours
    def _similar_rows(self, X_row: sp.csr_matrix, rows: np.ndarray | None, n: int) -> pd.DataFrame:
        sims, idx = self.neighbors_.kneighbors(X_row, rows=rows, n_neighbors=n)
        keep = idx[0] >= 0
        sims, idx = sims[0][keep], idx[0][keep]
        basket = (X_row > 0).astype(np.float32)
        shared = np.asarray((self.purchased_[idx] @ basket.T).todense()).ravel()
        segments = (
            self.segments_.to_numpy()[idx]
            if self.segments_ is not None
            else np.full(idx.size, None, dtype=object)
        )
        return pd.DataFrame(
            {
                S.RANK: np.arange(1, idx.size + 1),
                S.NEIGHBOR_ID: self.customers_.ids[idx],
                S.SIMILARITY: sims.astype(float),
                S.SHARED_PRODUCTS: shared.astype(np.int64),
                S.SEGMENT: segments,
            }
        )[SIMILAR_COLUMNS]

    def similar_customers(self, customer_id: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` most similar other customers, with similarity and shared-product counts."""
        row = self._row(customer_id)
        return self._similar_rows(self.X_[[row]], np.array([row]), _check_n(n))

    def explain(self, customer_id: str, product_id: str) -> pd.DataFrame:
        """Which neighbours made ``product_id`` a recommendation, and how much each contributed.

        ``contribution`` = similarity ** ``similarity_power`` x the neighbour's weight for the
        product (``neighbor_value``) / the product's buyers ** ``popularity_penalty``: the terms
        of the user-kNN score, so contributions add up to the score a user-kNN ranks by;
        ``share`` is the contribution's part of the product's score (shares sum to 1). Empty
        when no neighbour bought the product (e.g. a popularity fallback).
        """
        row = self._row(customer_id)
        col = self.products_.index_of(str(product_id))  # UnknownCustomerError(what="product")
        knn = self.neighbors_
        sims, idx = knn.kneighbors(self.X_[[row]], rows=np.array([row]))
        keep = idx[0] >= 0
        sims, idx = sims[0][keep], idx[0][keep]
        values = np.asarray(self.X_[idx, col].todense()).ravel() if idx.size else np.zeros(0)
        # The scoring rows hold each value times the product's popularity penalty: the same
        # terms score_graph sums, so the contributions add up to the score shown.
        scored = np.asarray(knn.score_X_[idx, col].todense()).ravel() if idx.size else np.zeros(0)
        contribution = sims ** getattr(knn, "similarity_power", 1.0) * scored
        bought = contribution > 0
        total = contribution[bought].sum()
        frame = pd.DataFrame(
            {
                S.NEIGHBOR_ID: self.customers_.ids[idx[bought]],
                S.SIMILARITY: sims[bought].astype(float),
                S.NEIGHBOR_VALUE: values[bought].astype(float),
                S.CONTRIBUTION: contribution[bought].astype(float),
                S.SHARE: (contribution[bought] / total) if total > 0 else contribution[bought],
            }
        )
        return frame.sort_values(
            [S.CONTRIBUTION, S.NEIGHBOR_ID], ascending=[False, True], ignore_index=True
        )[EXPLAIN_COLUMNS]

    def recommend_for_basket(
        self, product_ids: Sequence[str], n: int = 10
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What-if: neighbours and recommendations of a new customer who bought ``product_ids``.

        Nothing is retrained: the basket is weighted like a training row and scored against the
        fitted model. Unknown product ids raise :class:`UnknownCustomerError` (``what="product"``).
        """
        self._check_fitted()
        n = _check_n(n)
        cols = np.unique(self.products_.indices_of([str(p) for p in product_ids]))
        raw = sp.csr_matrix(
            (np.ones(cols.size), (np.zeros(cols.size, dtype=np.int64), cols)),
            shape=(1, len(self.products_)),
        )
        X_row = self.weighting_.transform(raw).tocsr()
        similar = self._similar_rows(X_row, None, n)
        result = self._recommend_rows(
            X_row,
            None,
            n,
            exclude_purchased=self.params.exclude_purchased,
            fallback=True,
            segment_codes=None,
        )
        return similar, self._frame(result)[REC_COLUMNS]

    # ------------------------------------------------------------------ rewards
    def _as_of(self, as_of: object | None) -> pd.Timestamp:
        return self.as_of_ if as_of is None else pd.Timestamp(as_of).normalize()

    def _segments_for_rewards(self) -> pd.Series | None:
        if self.segments_ is None:
            return None
        return self.segments_.dropna()

    def _with_customer(self, customer_id: str, n: int, as_of: object | None = None) -> pd.DataFrame:
        recs = self.recommend(customer_id, n, as_of=as_of)
        recs.insert(0, S.CUSTOMER_ID, str(customer_id))
        return recs

    def offer_book(self, as_of: object | None = None) -> OfferBook:
        """Offers, segments, spend profile and redemptions, as of a day (recsys/spend.py).

        The best offer is the one the customer can reach first, then the highest expected
        reward in currency (see :class:`~recsys.rewards.offer_book.OfferBook`).
        """
        self._check_fitted()
        day = self._as_of(as_of)
        # One book per day, kept: its prepared offers and segment lookup (O(customers) to build)
        # are reused by every later call, so one customer's offers cost milliseconds.
        books = self.__dict__.setdefault("_offer_books", {})
        book = books.get(day)
        if book is None:
            if len(books) >= _OFFER_BOOKS_KEPT:
                books.clear()
            book = books[day] = OfferBook(
                rewards=self.rewards_,  # None = no offers file: the rewards module handles it
                as_of=day,
                segments=self._segments_for_rewards(),
                profile=getattr(self, "spend_", None),  # None in artifacts before spend realism
                redeemed=getattr(self, "redeemed_", None),
            )
        return book

    def __getstate__(self) -> dict[str, Any]:
        # The offer books are a cache: not saved with the model.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def rewards_for(
        self, customer_id: str, n: int = 10, *, as_of: object | None = None
    ) -> pd.DataFrame:
        """The customer's recommendations with the best usable offer of each (NA when none).

        Offers the customer used up (``max_per_customer`` redemptions) are left out; columns
        ``qualifies``, ``reward_if_earned`` and ``expected_reward`` come from the spend profile.
        """
        # The recommendations' codes go to the offer book as the export passes them, so no text
        # lookup runs; an unknown customer's segment comes from the customers file by id.
        rows, slots = self._customer_slots(customer_id, n, None, True, as_of)
        recs = self._frame(slots, customer_ids=np.array([str(customer_id)], dtype=object))
        codes = None if rows is None or recs.empty else self.slot_codes(rows, slots, as_of)
        return self.offer_book(as_of).best(recs, codes)

    def eligible_offers(
        self, customer_id: str, n: int = 10, *, as_of: object | None = None
    ) -> pd.DataFrame:
        """Every usable offer for each of the customer's recommendations, best first."""
        return self.offer_book(as_of).pairs(self._with_customer(customer_id, n, as_of))

    def attach_offers(self, recs: pd.DataFrame, *, as_of: object | None = None) -> pd.DataFrame:
        """Best usable offer for each row of a ``recommend_many`` frame (index kept)."""
        return self.offer_book(as_of).best(recs)

    def offers_for_many(self, recs: pd.DataFrame, *, as_of: object | None = None) -> pd.DataFrame:
        """Every usable offer for each row of a ``recommend_many`` frame, long form.

        One row per (recommendation, offer), best first within each recommendation; used-up
        offers are left out and ``qualifies`` is filled, exactly as :meth:`eligible_offers`.
        """
        self._check_fitted()
        return self.offer_book(as_of).pairs(recs)

    def neighbor_similarities(self, sample: int | None = 1000, *, seed: int = 0) -> np.ndarray:
        """Similarities of the k neighbours of (a seeded sample of) the customers, flattened.

        Used to show how close neighbours are; ``sample=None`` uses every customer.
        """
        self._check_fitted()
        n_customers = len(self.customers_)
        rows = np.arange(n_customers)
        if sample is not None and sample < n_customers:
            rows = np.sort(np.random.default_rng(seed).choice(n_customers, sample, replace=False))
        sims, idx = self.neighbors_.kneighbors(self.X_[rows], rows=rows)
        return sims[idx >= 0].astype(float)

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"RecommenderPipeline({self.params.label()}, {state})"


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise RecsysError(f"n={n!r}: the number of results must be a whole number >= 1.")
    return int(n)
