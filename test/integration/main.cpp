#define BOOST_TEST_MODULE boost_curl_integration
#include <boost/test/unit_test.hpp>
