#define BOOST_TEST_MODULE boost_curl_unit
#include <boost/test/unit_test.hpp>
