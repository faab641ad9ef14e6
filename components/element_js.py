"""JavaScript shared by the app's ``st.components.v2`` elements (no iframe: they run in the page).

Streamlit 1.67 calls an element's function again each time the data it is given changes (a row
picked, the table's width dragged), without first calling the cleanup the previous call returned:
that one runs only when the element leaves the page. Seen in Chromium: four row clicks called the
chat's follow function four times and no cleanup. A function that adds listeners each call would
pile them up, the older ones holding the older data (a drag's width, the open session).
``REWIRE_JS``'s ``slRewire`` undoes the previous call's listeners before this call adds its own.
"""

REWIRE_JS = """
function slRewire(parentElement, wire) {
  // The element's previous call, still wired: undo it first (see components/element_js.py).
  if (parentElement.slUndo) parentElement.slUndo();
  const undo = wire() || (() => {});
  parentElement.slUndo = undo;
  return () => {
    if (parentElement.slUndo === undo) parentElement.slUndo = null;
    undo();
  };
}
"""
