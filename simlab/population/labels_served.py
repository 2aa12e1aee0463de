"""Which imported posts the simulation may serve: not those hidden by a moderation label.

An import with ``--labels exclude`` (the default) marks posts that carry a
hiding label (:data:`simlab.population.importing.HIDING_LABELS`) with
``post_details.served = 0``. :data:`SERVED_POSTS` is the SQL condition on
``feed_posts p`` that keeps every other post (synthetic posts have no
``post_details`` row and are always served); the population loader applies it,
so a hidden post is in no candidate pool, feed or metric of a run.
"""

SERVED_POSTS = (
    "NOT EXISTS (SELECT 1 FROM post_details d WHERE d.post_id = p.post_id AND d.served = 0)"
)
