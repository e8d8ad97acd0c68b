"""Customer explorer: one customer's profile, similar customers, recommendations and rewards."""

from __future__ import annotations

import streamlit as st

from dashboard import actions, cache, charts, render, state
from dashboard.views import customers as view
from recsys.data.schema import PRODUCT_ID

st.title("Customer explorer")
st.caption(
    "Pick a customer to see who shops like them, what those look-alikes bought that they have "
    "not (the recommendations), and which reward offers apply to those products on the model's "
    "as-of date. Hover over any bar for details."
)

pipeline = render.require_model()
dataset = state.get(state.DATASET)
render.warn_if_stale(pipeline, dataset)
key = cache.model_key(pipeline)
ids = pipeline.customer_ids

c1, c2, c3, c4 = st.columns([2.4, 1.3, 1.8, 1.1], vertical_alignment="bottom")
customer = view.customer_selector(c1, key, ids)
c2.button(
    "Random customer",
    key="pick_random",
    icon=":material/casino:",
    width="stretch",
    on_click=actions.pick_random_customer,
    args=(ids,),
)
n = c4.number_input("Recommendations", 3, 30, 10, key=state.N_RECS)
c3.button(
    "Customer with most offers",
    key="pick_most_offers",
    icon=":material/star:",
    width="stretch",
    on_click=lambda: actions.pick_customer(actions.most_offers_customer(pipeline, int(n))),
)
view.customer_search_note(ids)
colors = cache.colors_for(pipeline)

with render.user_errors(stop=True):
    similar = cache.similar_customers(key, pipeline, customer, 10)
    recs = cache.recommendations(key, pipeline, customer, int(n))
    offers = cache.customer_offers(key, pipeline, customer, int(n), pipeline.as_of_)

view.customer_profile(dataset, customer, colors)

st.subheader("Look-alikes and recommendations")
left, right = st.columns(2)
left.plotly_chart(charts.similar_customers_bar(similar), key="chart_similar")
right.plotly_chart(charts.recommendations_bar(recs, colors), key="chart_recs")
note = view.why_fallback(key, pipeline, customer, recs)  # None unless a slot is a fallback
view.recommendations_table(recs, note)

st.subheader(f"Eligible rewards on {render.fmt_date(pipeline.as_of_)}")
if getattr(pipeline, "rewards_", None) is None:
    st.info("The model's data has no reward offers: upload a rewards file on the Data page.")
    st.page_link(render.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
elif offers.empty:
    st.info(
        "None of these recommended products has an offer valid for this customer on this "
        "date. Try more recommendations, another customer, or **Customer with most offers**."
    )
else:
    st.plotly_chart(charts.expected_rewards_bar(view.best_offers(offers)), key="chart_rewards")
    view.offers_table(offers)

st.subheader("Why this product?")
if recs.empty:
    st.info("No recommendations to explain.")
else:
    product = st.selectbox(
        "Recommended product",
        recs[PRODUCT_ID].tolist(),
        format_func=view.product_label(recs),
        key=state.DRILL_PRODUCT,
    )
    with render.user_errors():
        explanation = cache.explanation(key, pipeline, customer, product)
        view.explain_product(recs, product, explanation, note, model=pipeline.params.model)

st.subheader("What if? A new customer with this basket")
st.caption(
    "Choose a few products: the model finds the customers with the most similar baskets "
    "and recommends from theirs — no retraining."
)
basket = st.multiselect(
    "Basket",
    pipeline.product_ids,
    key=state.BASKET,
    format_func=view.catalogue_label(pipeline),
    placeholder="Pick products, e.g. from the recommendations above",
)
if not basket:
    st.info(
        "Add products to the basket to see the neighbours and recommendations of such a customer.",
        icon=":material/shopping_basket:",
    )
else:
    with render.user_errors():
        what_if_similar, what_if_recs = cache.basket(key, pipeline, tuple(sorted(basket)), int(n))
        left, right = st.columns(2)
        left.plotly_chart(
            charts.similar_customers_bar(what_if_similar, title="Customers with similar baskets"),
            key="chart_whatif_similar",
        )
        right.plotly_chart(
            charts.recommendations_bar(
                what_if_recs, colors, title="Recommendations for this basket"
            ),
            key="chart_whatif_recs",
        )
