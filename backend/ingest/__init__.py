"""The import toolkit shared by every importer of outside files: shelters and hazard zones
today, JMA disaster XML, CAP, CSV of safety answers and the support register next.

An importer parses each file in a worker thread (``files.parse_all_off_loop``), reads it
through ``files.read_capped`` (size checked before reading), decodes it with ``json_text``,
``csv_table`` or ``xml_doc`` (positions kept; hostile XML refused), and collects every problem
of a file with its line in a ``problems.Problems`` collector (English and wholly Japanese
text, capped). Any problem refuses the whole import: nothing is written, and one
``ImportRefused`` lists the problems of every bad file so an administrator can fix them all
in one go.
"""
