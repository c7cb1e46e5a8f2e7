"""Pure graph code over the peer graph (who replied to, mentioned or shared whom).

Arrow tables in, Arrow tables out: no database, file, clock or environment.
"""
