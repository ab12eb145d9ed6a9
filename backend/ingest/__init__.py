"""The import toolkit shared by every importer of outside files (shelters, hazard zones, and
next JMA disaster XML, CAP, CSV of safety answers and the support register).

An importer parses each file in a worker thread (``parse_all_off_loop``), reads it through
``read_capped`` (size checked before reading), collects every problem of a file with its line
in a ``Problems`` collector (English and wholly Japanese text, capped) and refuses the whole
import when any file has one: nothing is written, and one ``ImportRefused`` lists the problems
of every bad file so an administrator can fix them all in one go.
"""
